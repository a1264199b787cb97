"""Operator REST API under ``/api/v1`` (Bearer admin token)."""
