"""alembic environment: runs on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from pmosync.sync.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("pmo-sync runs its migrations through pmosync.sync.store.Store")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
