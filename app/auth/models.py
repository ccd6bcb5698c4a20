"""Auth domain ORM models (auth issue)."""
