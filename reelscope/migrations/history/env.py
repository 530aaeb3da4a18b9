"""Alembic's entry for the run history store: always online, on the connection the store lends
(reelscope.database.SharedDatabase._migrate), inside the transaction it opened."""

from alembic import context

config = context.config
context.configure(
    connection=config.attributes["connection"],
    version_table=config.attributes["version_table"],
    target_metadata=None,
)
with context.begin_transaction():
    context.run_migrations()
