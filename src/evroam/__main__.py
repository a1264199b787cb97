"""``python -m evroam`` runs the CLI, for environments without the console script on PATH."""

from evroam.cli.main import app

app()
