"""Storage: SQLModel tables, the engine, named locks and Alembic migrations."""
