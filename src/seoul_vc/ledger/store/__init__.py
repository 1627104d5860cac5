"""Ledger storage: the :class:`~seoul_vc.ledger.store.base.Store` protocol and its backends.

``open_store("sqlite:PATH")`` is the embedded default; ``open_store("postgresql://...")``
serves several application servers appending to one log.
"""

from __future__ import annotations

from seoul_vc.errors import Code, ConfigurationError
from seoul_vc.ledger.store.base import Store, Transaction

__all__ = ["Store", "Transaction", "open_store"]


def open_store(url: str) -> Store:
    """Open the store a URL names: ``sqlite:PATH`` (or a bare path) or ``postgresql://...``.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown scheme or a missing driver.
        StorageError: ``storage`` if the database cannot be opened.
    """
    if url.startswith(("postgresql://", "postgres://")):
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "the PostgreSQL store is not available in this version"
        )
    from seoul_vc.ledger.store.sqlite import SQLiteStore

    path = url.removeprefix("sqlite:")
    if not path:
        raise ConfigurationError(Code.BAD_ARGUMENT, "sqlite: needs a file path")
    return SQLiteStore(path)
