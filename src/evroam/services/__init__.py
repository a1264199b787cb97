"""Use cases: one method per action, on core types and ports only."""
