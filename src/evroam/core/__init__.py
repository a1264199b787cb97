"""Domain types and rules. Standard library and pydantic only: no I/O, no frameworks."""
