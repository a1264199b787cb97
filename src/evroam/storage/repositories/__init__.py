"""Repositories: wrap an AsyncSession, speak core types."""
