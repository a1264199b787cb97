"""The ``evroam`` command line (typer + rich)."""
