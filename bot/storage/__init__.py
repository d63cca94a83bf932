"""Storage: schema, migrations and repositories over SQLAlchemy Core (async)."""
