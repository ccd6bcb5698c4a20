"""`python -m app.cli`: the admin CLI."""

from app.cli.main import cli

cli()
