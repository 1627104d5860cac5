"""Ledger entries: ``{type, body, signer, time, sig}`` as canonical JSON (RFC 8785).

An entry is what a submitter (an agency, a citizen's wallet, a poll proposer) signs and the
ledger appends. Its bytes — the RFC 8785 canonical JSON of all five members — are the leaf
of the Merkle tree (``leaf_hash = SHA-256(0x00 || bytes)``, RFC 9162 §2.1.1).

* ``type``: the record type, ``<app>.<verb>`` (``authority.grant``, ``consent.view``...).
* ``body``: the record, a JSON object. Never personal data: hashes, commitments, counts and
  pseudonyms only (DESIGN.md, "No personal data on the ledger").
* ``signer``: the submitter's DID. Only self-certifying methods (did:key, did:jwk) are
  accepted, so anyone can re-verify the whole log offline, years later, with no network.
* ``time``: POSIX seconds, as the submitter claims it (the ledger checks it within a skew).
* ``sig``: base64url of the signer's signature over the line ``seoul-vc/ledger-entry/v1``
  (with its newline) followed by ``JCS({type, body, signer, time})``; the prefix separates
  this use of the key from JWS and notes.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.entry import Entry, sign_entry
    >>> key = PrivateKey.generate()
    >>> entry = sign_entry("demo.note", {"n": 1}, key, time=1767225600)
    >>> Entry.from_bytes(entry.to_bytes()) == entry
    True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.did import self_certifying_key
from seoul_vc.did.jwk import did_jwk
from seoul_vc.did.key import did_key
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey

__all__ = [
    "ENTRY_MAX_DEPTH",
    "MAX_ENTRY_BYTES",
    "Entry",
    "public_key_of_signer",
    "sign_entry",
    "signer_did",
]

MAX_ENTRY_BYTES: Final = 16 * 1024
#: Deepest JSON nesting of an entry (the entry object itself is depth 1).
ENTRY_MAX_DEPTH: Final = 12
_DOMAIN: Final = b"seoul-vc/ledger-entry/v1\n"
_TYPE_RE: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_MEMBERS: Final = frozenset({"type", "body", "signer", "time", "sig"})


def signer_did(key: PublicKey) -> str:
    """Return the DID a key signs entries under: did:key for Ed25519, did:jwk for P-256."""
    return did_key(key) if key.alg is KeyAlgorithm.EDDSA else did_jwk(key)


def public_key_of_signer(did: str) -> PublicKey:
    """Derive the key of a self-certifying signer DID (did:key or did:jwk).

    Raises:
        MalformedInputError: ``invalid_did`` for other methods; key errors for bad keys.
    """
    key = self_certifying_key(did) if "#" not in did else None
    if key is None:
        raise MalformedInputError(Code.INVALID_DID, "ledger signers are did:key or did:jwk")
    return key


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """A signed ledger entry. Build with :func:`sign_entry` or :meth:`from_bytes`.

    Both constructors already hold the canonical bytes and keep them, so appending does not
    serialise the entry again. The bytes are what the log stores, while the signature is
    checked over the live members: an entry whose ``body`` was changed after signing fails
    :meth:`verify_signature`, so the two can never disagree in the log.
    """

    type: str
    body: JSONObject
    signer: str
    time: int
    sig: str
    _bytes: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def signing_input(self) -> bytes:
        """Return the bytes the signer signed (domain prefix + JCS without ``sig``)."""
        unsigned: dict[str, JSONValue] = {
            "type": self.type,
            "body": self.body,
            "signer": self.signer,
            "time": self.time,
        }
        return _DOMAIN + _json.canonical(unsigned)

    def to_json(self) -> JSONObject:
        """Return the entry as a JSON object."""
        return {
            "type": self.type,
            "body": self.body,
            "signer": self.signer,
            "time": self.time,
            "sig": self.sig,
        }

    def to_bytes(self) -> bytes:
        """Return the canonical bytes: the Merkle leaf."""
        if self._bytes is None:
            object.__setattr__(self, "_bytes", _json.canonical(self.to_json()))
            assert self._bytes is not None  # noqa: S101 - narrows for the type checker
        return self._bytes

    def digest(self) -> bytes:
        """Return SHA-256 of the canonical bytes (identifies duplicates)."""
        return hashlib.sha256(self.to_bytes()).digest()

    def verify_signature(self) -> PublicKey:
        """Check ``sig`` under the signer DID's key and return that key.

        Raises:
            MalformedInputError: ``invalid_did``/key errors, ``invalid_encoding`` for ``sig``.
            VerificationError: ``invalid_signature``.
        """
        key = public_key_of_signer(self.signer)
        key.verify(self.signing_input(), b64url_decode(self.sig, what="entry sig"))
        return key

    @classmethod
    def from_json(cls, obj: Mapping[str, object]) -> Entry:
        """Build an entry from a parsed JSON object, checking every member's shape.

        Raises:
            MalformedInputError: ``malformed`` for missing, extra or mistyped members.
        """
        if set(obj) != _MEMBERS:
            raise MalformedInputError(Code.MALFORMED, "entry members: type/body/signer/time/sig")
        type_, body, signer, time, sig = (obj[k] for k in ("type", "body", "signer", "time", "sig"))
        if not isinstance(type_, str) or _TYPE_RE.fullmatch(type_) is None or len(type_) > 64:
            raise MalformedInputError(Code.MALFORMED, "entry type is <app>.<verb> in lowercase")
        if not isinstance(body, dict):
            raise MalformedInputError(Code.MALFORMED, "entry body is a JSON object")
        if not isinstance(signer, str) or not isinstance(sig, str):
            raise MalformedInputError(Code.MALFORMED, "entry signer and sig are strings")
        if isinstance(time, bool) or not isinstance(time, int) or not 0 <= time < 2**53:
            raise MalformedInputError(Code.MALFORMED, "entry time is POSIX seconds")
        return cls(type=type_, body=body, signer=signer, time=time, sig=sig)

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Entry:
        """Parse an entry from JSON within bounds; it must be in canonical form.

        Raises:
            MalformedInputError: ``too_large``, ``too_deep``, ``duplicate_key``,
                ``malformed`` (also for JSON that is not RFC 8785 canonical).
        """
        raw = data.encode() if isinstance(data, str) else data
        obj = _json.loads_object(
            raw, max_bytes=MAX_ENTRY_BYTES, max_depth=ENTRY_MAX_DEPTH, what="entry"
        )
        entry = cls.from_json(obj)
        if entry.to_bytes() != raw:
            raise MalformedInputError(Code.MALFORMED, "entry is not in canonical JSON form")
        return entry


def sign_entry(
    type: str,
    body: Mapping[str, JSONValue],
    key: PrivateKey,
    *,
    time: int,
    signer: str | None = None,
) -> Entry:
    """Sign a new entry with ``key`` (signer DID derived from the key unless given).

    Raises:
        MalformedInputError: as :meth:`Entry.from_json`, or ``too_large`` past
            :data:`MAX_ENTRY_BYTES`.
    """
    did = signer or signer_did(key.public_key)
    draft = Entry.from_json(
        {"type": type, "body": dict(body), "signer": did, "time": time, "sig": ""}
    )
    entry = Entry(
        type=draft.type,
        body=draft.body,
        signer=draft.signer,
        time=draft.time,
        sig=b64url_encode(key.sign(draft.signing_input())),
    )
    if len(entry.to_bytes()) > MAX_ENTRY_BYTES:
        raise MalformedInputError(Code.TOO_LARGE, "entry is too large", limit=MAX_ENTRY_BYTES)
    return entry
