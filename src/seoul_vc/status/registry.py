"""The issuer's status registry: random indexes, revoke/suspend/reinstate, signed lists.

An agency keeps one registry (SQLite by default, PostgreSQL for several servers; see
:mod:`seoul_vc.status._store`). It hands out status entries for new credentials and publishes
signed status lists:

* **Kinds of list.** ``bitstring`` lists serve ``vc+jwt`` and ``vc+sd-jwt`` credentials with
  two W3C ``BitstringStatusListEntry`` values (purposes ``revocation`` and ``suspension``,
  one 1-bit list credential each, the same index in both); ``token`` lists serve ``dc+sd-jwt``
  credentials with one IETF ``status_list`` reference into a 2-bit Status List Token (VALID,
  INVALID, SUSPENDED).
* **Herd privacy.** Every list has at least ``Limits.min_status_list_entries`` (131,072)
  entries, all VALID until used, so an unused index looks like any valid credential.
* **Random indexes without reuse.** Each list draws its indexes by a Fisher-Yates shuffle
  kept in the database: the k-th allocation picks uniformly among the indexes not yet given
  (``secrets.randbelow``), so neither the index nor its neighbours reveal issuance order,
  no index is ever given twice, and a full list takes no retries. When a list is full the
  next allocation opens a new list under a new random identifier.
* **Status changes.** ``revoke`` (final), ``suspend`` and ``reinstate`` (from suspension
  only) change one entry and mark its list for publication; an unallocated index is
  ``not_found``; reinstating or suspending a revoked entry is a ``conflict``.
* **Publishing.** :meth:`StatusRegistry.publish` signs a new version of every changed list
  (``vc+jwt`` ``BitstringStatusListCredential`` per purpose, or ``statuslist+jwt``), records
  it, anchors it through the :class:`Anchor` it was given (a ledger entry with the URI, the
  version and the SHA-256 of the exact token: :mod:`seoul_vc.ledger.anchor`), and returns
  the tokens with their receipts, to be served at their URIs (``write_to`` a folder).

This module holds allocation and status changes, and :class:`StatusRegistry`; its other rooms
are private bases of it: :mod:`~seoul_vc.status._base` (the configuration, the store, the
kinds of list and their URIs) and :mod:`~seoul_vc.status._publish` (signing, recording,
anchoring and serving versions, and :class:`PublishedList`).

Example:
    >>> import os, tempfile
    >>> from seoul_vc.credentials import Issuer
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.status.registry import StatusRegistry
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     registry = StatusRegistry(
    ...         "sqlite:" + os.path.join(tmp, "status.db"),
    ...         issuer=Issuer(PrivateKey.generate()),
    ...         base_url="https://status.seoul.example/lists",
    ...     )
    ...     entry = registry.allocate("dc+sd-jwt")
    ...     registry.revoke(entry)
    ...     published = registry.publish()
    ...     registry.close()
    >>> [p.media_type for p in published]
    ['application/statuslist+jwt']
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from seoul_vc._json import JSONValue
from seoul_vc._tables import one_row
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError, StateConflictError
from seoul_vc.status._base import _PURPOSES, ListKind, _uris
from seoul_vc.status._publish import PublishedList, _RegistryPublishing
from seoul_vc.status._store import Tx
from seoul_vc.status.anchoring import Anchor, AnchorReceipt
from seoul_vc.status.bitstring import BitstringStatusListEntry, parse_status_entries
from seoul_vc.status.token_list import StatusListReference, StatusType, parse_status_claim

__all__ = [
    "Anchor",
    "AnchorReceipt",
    "ListKind",
    "PublishedList",
    "StatusAllocation",
    "StatusRegistry",
    "kind_for_format",
]

#: Allocations from which the whole shuffle table of a list is read at once.
_PRELOAD: Final = 256
_SELECT_STATUS: Final = "SELECT status FROM {p}status_entries WHERE list_id = ? AND idx = ?"
_NEVER_GIVEN: Final = "this registry never gave out that index"


def kind_for_format(format: str) -> ListKind:
    """Return the kind of list serving a securing format.

    Raises:
        ConfigurationError: ``bad_argument`` for an unknown format.
    """
    if format in ("vc+jwt", "vc+sd-jwt"):
        return "bitstring"
    if format == "dc+sd-jwt":
        return "token"
    raise ConfigurationError(Code.BAD_ARGUMENT, "unknown credential format", format=format[:32])


# -- values ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusAllocation:
    """An index handed out for one credential.

    Attributes:
        kind: ``bitstring`` or ``token``.
        list_id: the list's random identifier.
        index: the credential's index in the list.
        uris: the list URIs: ``(revocation, suspension)`` for bitstring lists, one for token
            lists.
    """

    kind: ListKind
    list_id: str
    index: int
    uris: tuple[str, ...]

    def status_claim(self) -> JSONValue:
        """Return what the credential carries: ``credentialStatus`` or ``status``.

        Bitstring lists: a list of two ``BitstringStatusListEntry`` objects (revocation,
        suspension). Token lists: ``{"status_list": {"idx": ..., "uri": ...}}``.
        """
        if self.kind == "token":
            return StatusListReference(idx=self.index, uri=self.uris[0]).to_json()
        return [
            BitstringStatusListEntry(purpose=p.value, index=self.index, list_url=uri).to_json()
            for p, uri in zip(_PURPOSES, self.uris, strict=True)
        ]


# -- the registry -----------------------------------------------------------------------------


class StatusRegistry(_RegistryPublishing):
    """An issuer's status lists; see the module docstring.

    Args:
        url: the registry database: ``sqlite:PATH`` or ``postgresql://...[?schema=name]``.
        issuer: signs the published lists (its DID, ``kid`` and clock are used).
        base_url: lists are published at ``<base_url>/<list id>/<revocation|suspension|
            status>``; an ``https`` URL without query or fragment.
        list_size: entries per list, a multiple of 8, at least
            ``limits.min_status_list_entries``.
        validity: how long a published version is valid (``validUntil``/``exp``).
        ttl: how long verifiers may cache a version (``ttl``).
        anchor: records every published version on the ledger.
        limits: the herd-privacy minimum.

    Raises:
        ConfigurationError: ``bad_argument`` for a bad base URL, list size, validity or ttl.
    """

    # -- allocation ---------------------------------------------------------------------------
    def allocate(self, format: str) -> StatusAllocation:
        """Allocate a random, never-used index for a new credential of ``format``.

        Durable on return (one write transaction).

        Raises:
            ConfigurationError: ``bad_argument`` for an unknown format.
            StorageError, UnavailableError: the database failed or stayed busy.
        """
        return self.allocate_many(format, 1)[0]

    def allocate_many(self, format: str, count: int) -> list[StatusAllocation]:
        """Allocate ``count`` indexes in one transaction, opening new lists as they fill.

        Cost: O(1) reads and writes per index (the shuffle's swap table), read whole when
        many indexes are drawn from one list.

        Raises:
            as :meth:`allocate`; ``bad_argument`` for a negative count.
        """
        kind = kind_for_format(format)
        if count < 0:
            raise ConfigurationError(Code.BAD_ARGUMENT, "count is not negative")
        out: list[StatusAllocation] = []
        with self._store.write() as tx:
            while len(out) < count:
                list_id, base, size, cursor = self._open_list(tx, kind)
                take = min(count - len(out), size - cursor)
                indexes = _draw(tx, list_id, size, cursor, take)
                tx.executemany(
                    "INSERT INTO {p}status_entries (list_id, idx, status) VALUES (?, ?, 0)",
                    [(list_id, i) for i in indexes],
                )
                tx.execute(
                    "UPDATE {p}status_lists SET next_pos = ? WHERE list_id = ?",
                    (cursor + take, list_id),
                )
                uris = _uris(kind, base, list_id)
                out.extend(
                    StatusAllocation(kind=kind, list_id=list_id, index=i, uris=uris)
                    for i in indexes
                )
        return out

    def _open_list(self, tx: Tx, kind: ListKind) -> tuple[str, str, int, int]:
        rows = tx.execute(
            "SELECT list_id, base_url, size, next_pos FROM {p}status_lists "
            "WHERE kind = ? AND next_pos < size ORDER BY created_at DESC, list_id LIMIT 1",
            (kind,),
        )
        if rows:
            list_id, base, size, cursor = rows[0]
            return str(list_id), str(base), int(size), int(cursor)
        # A random identifier: list names say nothing about how many lists came before.
        list_id = secrets.token_hex(8)
        tx.execute(
            "INSERT INTO {p}status_lists (list_id, kind, base_url, size, next_pos, version, "
            "dirty, created_at) VALUES (?, ?, ?, ?, 0, 0, 1, ?)",
            (list_id, kind, self._base, self._size, self._now()),
        )
        return list_id, self._base, self._size, 0

    # -- status changes -----------------------------------------------------------------------
    def revoke(self, ref: StatusAllocation | JSONValue) -> None:
        """Revoke a credential (final). Revoking it again changes nothing.

        Args:
            ref: an allocation, or the credential's ``credentialStatus``/``status`` value.

        Raises:
            NotFoundError: ``not_found`` for a list or index this registry never gave out.
            MalformedInputError: for a status value that does not parse.
        """
        self._change(ref, StatusType.INVALID, {StatusType.VALID, StatusType.SUSPENDED})

    def suspend(self, ref: StatusAllocation | JSONValue) -> None:
        """Suspend a valid credential (reversible with :meth:`reinstate`).

        Raises:
            StateConflictError: ``conflict`` if it is revoked.
            NotFoundError, MalformedInputError: as :meth:`revoke`.
        """
        self._change(ref, StatusType.SUSPENDED, {StatusType.VALID})

    def reinstate(self, ref: StatusAllocation | JSONValue) -> None:
        """Lift a suspension.

        Raises:
            StateConflictError: ``conflict`` if the credential is revoked (final).
            NotFoundError, MalformedInputError: as :meth:`revoke`.
        """
        self._change(ref, StatusType.VALID, {StatusType.SUSPENDED})

    def status_of(self, ref: StatusAllocation | JSONValue) -> StatusType:
        """Return the registry's current status of a credential (published or not).

        Raises:
            NotFoundError, MalformedInputError: as :meth:`revoke`.
        """
        list_id, index = self._locate(ref)
        with self._store.read() as tx:
            (status,) = one_row(tx, _SELECT_STATUS, (list_id, index), _NEVER_GIVEN, index=index)
        return StatusType(int(status))

    def _change(
        self, ref: StatusAllocation | JSONValue, target: StatusType, sources: set[StatusType]
    ) -> None:
        list_id, index = self._locate(ref)
        with self._store.write() as tx:
            (status,) = one_row(tx, _SELECT_STATUS, (list_id, index), _NEVER_GIVEN, index=index)
            current = StatusType(int(status))
            if current == target:
                return
            if current not in sources:
                raise StateConflictError(
                    Code.CONFLICT,
                    f"a {current.name.lower()} credential cannot become {target.name.lower()}",
                )
            tx.execute(
                "UPDATE {p}status_entries SET status = ? WHERE list_id = ? AND idx = ?",
                (int(target), list_id, index),
            )
            tx.execute("UPDATE {p}status_lists SET dirty = 1 WHERE list_id = ?", (list_id,))

    def change_many(self, refs: Iterable[StatusAllocation], target: StatusType) -> int:
        """Set many allocations to ``target`` in one transaction (bulk revocation).

        Entries already revoked stay revoked. Returns the number changed.

        Raises:
            NotFoundError: ``not_found`` for an index never given out.
        """
        changed = 0
        with self._store.write() as tx:
            by_list: dict[str, list[int]] = {}
            for ref in refs:
                by_list.setdefault(ref.list_id, []).append(ref.index)
            for list_id, indexes in by_list.items():
                rows = [(int(target), list_id, i) for i in indexes]
                tx.executemany(
                    "UPDATE {p}status_entries SET status = ? WHERE list_id = ? AND idx = ? "
                    "AND status != 1",
                    rows,
                )
                changed += len(rows)
                tx.execute("UPDATE {p}status_lists SET dirty = 1 WHERE list_id = ?", (list_id,))
        return changed

    def _locate(self, ref: StatusAllocation | JSONValue) -> tuple[str, int]:
        if isinstance(ref, StatusAllocation):
            return ref.list_id, ref.index
        if isinstance(ref, Mapping) and "status_list" in ref:
            reference = parse_status_claim(ref)
            return self._list_of(reference.uri), reference.idx
        entries = parse_status_entries(ref)
        located = {(self._list_of(e.list_url), e.index) for e in entries}
        if len(located) != 1:
            raise MalformedInputError(
                Code.MALFORMED, "the status entries point at different registry slots"
            )
        return located.pop()


def _draw(tx: Tx, list_id: str, size: int, cursor: int, take: int) -> list[int]:
    """Draw ``take`` indexes by continuing the list's Fisher-Yates shuffle at ``cursor``.

    The swap table holds ``pos -> value`` for positions >= cursor whose value moved; a
    missing position holds itself. Each draw swaps a uniformly chosen remaining position
    into the cursor's place (Knuth, TAOCP vol. 2, §3.4.2, Algorithm P, run lazily).
    """
    swaps: dict[int, int] = {}
    complete = take >= _PRELOAD
    if complete:
        for pos, value in tx.execute(
            "SELECT pos, value FROM {p}status_shuffle WHERE list_id = ?", (list_id,)
        ):
            swaps[int(pos)] = int(value)

    def value_at(pos: int) -> int:
        if pos not in swaps and not complete:
            rows = tx.execute(
                "SELECT value FROM {p}status_shuffle WHERE list_id = ? AND pos = ?",
                (list_id, pos),
            )
            swaps[pos] = int(rows[0][0]) if rows else pos
        return swaps.get(pos, pos)

    drawn: list[int] = []
    touched: set[int] = set()
    for position in range(cursor, cursor + take):
        chosen = position + secrets.randbelow(size - position)
        picked = value_at(chosen)
        swaps[chosen] = value_at(position)
        swaps.pop(position, None)
        touched.update((chosen, position))
        drawn.append(picked)
    end = cursor + take
    if complete:
        tx.execute("DELETE FROM {p}status_shuffle WHERE list_id = ?", (list_id,))
        tx.executemany(
            "INSERT INTO {p}status_shuffle (list_id, pos, value) VALUES (?, ?, ?)",
            [(list_id, pos, value) for pos, value in swaps.items() if pos >= end and pos != value],
        )
        return drawn
    tx.executemany(
        "DELETE FROM {p}status_shuffle WHERE list_id = ? AND pos = ?",
        [(list_id, pos) for pos in touched],
    )
    tx.executemany(
        "INSERT INTO {p}status_shuffle (list_id, pos, value) VALUES (?, ?, ?)",
        [
            (list_id, pos, swaps[pos])
            for pos in touched
            if pos >= end and pos in swaps and swaps[pos] != pos
        ],
    )
    return drawn
