"""Publishing the registry's lists: signed versions, recorded and anchored, then served.

Part of :mod:`seoul_vc.status.registry`: :class:`_RegistryPublishing` signs a new version of
each changed list (a ``vc+jwt`` ``BitstringStatusListCredential`` per purpose, W3C Bitstring
Status List v1.0, or an IETF ``statuslist+jwt`` Status List Token), records it in the
``status_published`` table, anchors it through the registry's
:class:`~seoul_vc.status.Anchor` (keeping the receipt beside it), reads back the latest
version of a URI, and writes tokens into a folder to be served. :class:`PublishedList` is
one such version.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc._tables import one_row
from seoul_vc.errors import Code, ConfigurationError
from seoul_vc.jose import encode_jwt
from seoul_vc.status._base import _BITS, _PURPOSES, _RegistryBase, _uris
from seoul_vc.status.anchoring import AnchorReceipt
from seoul_vc.status.bitstring import StatusPurpose, format_status_list_credential
from seoul_vc.status.token_list import STATUS_LIST_TYP, StatusType, encode_status_list, set_status

__all__ = ["PublishedList"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedList:
    """One signed, published status list version.

    Attributes:
        uri: where it must be served.
        version: its version, from 1.
        token: the signed token (compact JWS), byte for byte what must be served.
        sha256: SHA-256 of the token's ASCII bytes (what the ledger records).
        media_type: the Content-Type to serve it with.
        receipt: the anchor receipt, if the registry has an anchor.
    """

    uri: str
    version: int
    token: str
    sha256: bytes
    media_type: str
    receipt: AnchorReceipt | None = None

    def to_json(self) -> JSONObject:
        """Return a summary as JSON (the token itself is not repeated)."""
        return {
            "uri": self.uri,
            "version": self.version,
            "sha256": self.sha256.hex(),
            "media_type": self.media_type,
            "receipt": None if self.receipt is None else self.receipt.to_json(),
        }


class _RegistryPublishing(_RegistryBase):
    """The published versions of a :class:`~seoul_vc.status.StatusRegistry`'s lists."""

    def publish(self, *, everything: bool = False) -> list[PublishedList]:
        """Sign, record and anchor a new version of every changed list (or of all).

        Each version is recorded in the registry before it is anchored, so a failure between
        the two leaves a gap in version numbers, never two lists under one version.

        Raises:
            StateConflictError, PolicyError: from the anchor (see :class:`Anchor`).
            StorageError, UnavailableError: the database failed.
        """
        published: list[PublishedList] = []
        with self._store.write() as tx:
            lists = tx.execute(
                "SELECT list_id, kind, base_url, size, version FROM {p}status_lists "
                "WHERE dirty = 1 OR ? = 1 ORDER BY list_id",
                (1 if everything else 0,),
            )
            for list_id, kind, base, size, version in lists:
                statuses = tx.execute(
                    "SELECT idx, status FROM {p}status_entries WHERE list_id = ? AND status != 0",
                    (list_id,),
                )
                tokens = self._sign(str(kind), str(base), str(list_id), int(size), statuses,
                                    int(version) + 1)  # fmt: skip
                now = self._now()
                for uri, token, media_type in tokens:
                    digest = hashlib.sha256(token.encode("ascii")).digest()
                    tx.execute(
                        "INSERT INTO {p}status_published (uri, version, sha256, token, receipt, "
                        "published_at) VALUES (?, ?, ?, ?, NULL, ?)",
                        (uri, int(version) + 1, digest, token, now),
                    )
                    published.append(
                        PublishedList(
                            uri=uri,
                            version=int(version) + 1,
                            token=token,
                            sha256=digest,
                            media_type=media_type,
                        )
                    )
                tx.execute(
                    "UPDATE {p}status_lists SET version = ?, dirty = 0 WHERE list_id = ?",
                    (int(version) + 1, list_id),
                )
        if self._anchor is None:
            return published
        anchored: list[PublishedList] = []
        for item in published:
            kind_bits = 1 if item.media_type.endswith("vc+jwt") else _BITS["token"]
            size = self._size_of(item.uri)
            receipt = self._anchor.anchor(
                uri=item.uri, version=item.version, sha256=item.sha256, size=size, bits=kind_bits
            )
            with self._store.write() as tx:
                tx.execute(
                    "UPDATE {p}status_published SET receipt = ? WHERE uri = ? AND version = ?",
                    (_json.canonical(receipt.to_json()).decode(), item.uri, item.version),
                )
            anchored.append(
                PublishedList(
                    uri=item.uri,
                    version=item.version,
                    token=item.token,
                    sha256=item.sha256,
                    media_type=item.media_type,
                    receipt=receipt,
                )
            )
        return anchored

    def _size_of(self, uri: str) -> int:
        with self._store.read() as tx:
            rows = tx.execute(
                "SELECT size FROM {p}status_lists WHERE list_id = ?", (self._list_of(uri),)
            )
        return int(rows[0][0])

    def _sign(
        self,
        kind: str,
        base: str,
        list_id: str,
        size: int,
        statuses: Sequence[tuple[object, ...]],
        version: int,
    ) -> list[tuple[str, str, str]]:
        issuer = self._issuer
        now = issuer.clock.now().replace(microsecond=0)
        until = now + self._validity
        uris = _uris("token" if kind == "token" else "bitstring", base, list_id)
        if kind == "token":
            data = bytearray(size * _BITS["token"] // 8)
            for idx, status in statuses:
                set_status(data, _BITS["token"], int(str(idx)), int(str(status)))
            claims: dict[str, JSONValue] = {
                "sub": uris[0],
                "iss": issuer.did,
                "iat": int(now.timestamp()),
                "exp": int(until.timestamp()),
                "ttl": int(self._ttl.total_seconds()),
                "status_list": encode_status_list(bytes(data), _BITS["token"]),
            }
            token = encode_jwt(claims, issuer.key, typ=STATUS_LIST_TYP, kid=issuer.kid)
            return [(uris[0], token, "application/statuslist+jwt")]
        out = []
        for purpose, uri in zip(_PURPOSES, uris, strict=True):
            bits = bytearray(size // 8)
            flag = (
                StatusType.INVALID if purpose is StatusPurpose.REVOCATION else StatusType.SUSPENDED
            )
            for idx, status in statuses:
                if int(str(status)) == flag:
                    i = int(str(idx))
                    bits[i >> 3] |= 0x80 >> (i & 7)
            document = format_status_list_credential(
                id=uri,
                issuer=issuer.did,
                purpose=purpose.value,
                bitstring=bytes(bits),
                valid_from=now,
                valid_until=until,
                ttl_ms=int(self._ttl.total_seconds() * 1000),
            )
            token = encode_jwt(
                document, issuer.key, typ="vc+jwt", kid=issuer.kid, header={"cty": "vc"}
            )
            out.append((uri, token, "application/vc+jwt"))
        return out

    def latest(self, uri: str) -> PublishedList:
        """Return the latest published version of ``uri``.

        Raises:
            NotFoundError: ``not_found`` if it was never published.
        """
        with self._store.read() as tx:
            version, token, digest, receipt = one_row(
                tx,
                "SELECT version, token, sha256, receipt FROM {p}status_published WHERE uri = ? "
                "ORDER BY version DESC LIMIT 1",
                (uri,),
                "that status list was never published",
            )
        return PublishedList(
            uri=uri,
            version=int(version),
            token=str(token),
            sha256=bytes(digest),
            media_type="application/statuslist+jwt"
            if uri.endswith("/status")
            else "application/vc+jwt",
            receipt=None
            if receipt is None
            else AnchorReceipt.from_json(
                _json.loads(str(receipt), max_bytes=1 << 20, max_depth=4, what="receipt")
            ),
        )

    def write_to(
        self, directory: str | os.PathLike[str], published: Iterable[PublishedList]
    ) -> list[Path]:
        """Write published tokens under ``directory`` at their path below ``base_url``.

        Each file is replaced atomically (written beside it, then renamed), so a web server
        serving the folder never shows half a list.

        Raises:
            ConfigurationError: ``unreadable_input`` if a file cannot be written.
        """
        root = Path(directory)
        written = []
        for item in published:
            relative = item.uri[len(self._base) + 1 :]
            target = root.joinpath(*relative.split("/"))
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(target.name + ".partial")
                partial.write_text(item.token, encoding="ascii")
                partial.replace(target)
            except OSError as exc:
                raise ConfigurationError(
                    Code.UNREADABLE_INPUT, f"cannot write the status list: {exc.strerror}"
                ) from exc
            written.append(target)
        return written
