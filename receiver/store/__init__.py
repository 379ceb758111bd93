"""The metadata store: connections, named queries, migrations and typed records."""
