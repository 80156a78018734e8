"""The store: SQLAlchemy models, the database and the content-addressed files."""
