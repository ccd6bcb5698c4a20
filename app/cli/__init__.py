"""The admin CLI, `python -m app.cli`: audit the settings, make keys, manage users and sessions.

`python -m app` serves; this package holds the one-off operations an operator runs next to
it. Each command reads the same Settings (environment and `.env`) as the service.
"""
