"""Ledger storage: the :class:`~seoul_vc.ledger.store.base.Store` protocol and its backends.

``open_store("sqlite:PATH")`` is the embedded default; ``open_store("postgresql://...")``
serves several application servers appending to one log (``?schema=name`` picks the schema
holding its tables, ``seoul_vc`` by default).
"""

from __future__ import annotations

from urllib.parse import unquote

from seoul_vc.errors import Code, ConfigurationError
from seoul_vc.ledger.store.base import Store, Transaction

__all__ = ["Store", "Transaction", "open_store"]


def open_store(url: str) -> Store:
    """Open the store a URL names: ``sqlite:PATH`` (or a bare path) or ``postgresql://...``.

    A PostgreSQL URL is a libpq URI; its ``schema`` query parameter (removed before
    connecting) names the schema of the log's tables.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown scheme, a bad schema name or a
            missing driver (psycopg, the ``postgres`` extra).
        StorageError: ``storage`` if the database cannot be opened.
        UnavailableError: ``unavailable`` if the PostgreSQL server cannot be reached.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from seoul_vc.ledger.store.postgres import PostgresStore

        dsn, schema = _split_schema(url)
        return PostgresStore(dsn) if schema is None else PostgresStore(dsn, schema=schema)
    from seoul_vc.ledger.store.sqlite import SQLiteStore

    path = url.removeprefix("sqlite:")
    if not path:
        raise ConfigurationError(Code.BAD_ARGUMENT, "sqlite: needs a file path")
    return SQLiteStore(path)


def _split_schema(url: str) -> tuple[str, str | None]:
    """Remove the ``schema=`` parameter from a libpq URI, leaving the rest byte for byte.

    The other parameters are not decoded and re-encoded: libpq reads ``+`` literally, which
    ``urllib``'s form encoding would not preserve.
    """
    base, sep, rest = url.partition("?")
    if not sep:
        return url, None
    kept: list[str] = []
    schemas: list[str] = []
    for part in rest.split("&"):
        name, _, value = part.partition("=")
        if name == "schema":
            schemas.append(unquote(value))
        else:
            kept.append(part)
    if len(schemas) > 1:
        raise ConfigurationError(Code.BAD_ARGUMENT, "the URL names more than one schema")
    query = "&".join(kept)
    return (f"{base}?{query}" if query else base), (schemas[0] if schemas else None)
