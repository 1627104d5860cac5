"""Anchoring seams: what the status room asks of the ledger, declared here, met above.

``status`` sits below ``ledger`` in the import layers, so the registry and the checker speak
to the ledger through two protocols that :mod:`seoul_vc.ledger.anchor` implements:

* :class:`Anchor` (issuer side): record a published version — its URI, version and the
  SHA-256 of the exact token — and return an :class:`AnchorReceipt` carrying the entry's
  inclusion proof (and a proof bundle when a checkpoint was signed);
* :class:`AnchorCheck` (verifier side, anchored mode): is this hash the latest anchored
  version of this URI under a checkpoint the verifier's witness policy accepts?

Example:
    >>> from seoul_vc.status.anchoring import AnchorReceipt
    >>> receipt = AnchorReceipt(uri="https://s.example/1", version=1, sha256=bytes(32),
    ...                         index=1, size=2, root_hash=bytes(32), inclusion_proof=())
    >>> AnchorReceipt.from_json(receipt.to_json()) == receipt
    True
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from seoul_vc._encoding import b64_hash_decode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import Code, MalformedInputError

__all__ = ["Anchor", "AnchorCheck", "AnchorReceipt"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorReceipt:
    """Where a published version sits on the ledger, with its inclusion proof.

    Attributes:
        uri, version, sha256: what was anchored (``sha256`` of the exact token bytes).
        index: the ledger entry's index.
        size: the tree size the proof is for; root_hash: that tree's RFC 9162 root.
        inclusion_proof: the RFC 9162 inclusion proof of the entry in that tree.
        bundle: the ledger's proof bundle JSON (entry, proof, cosigned checkpoint) when the
            anchor signed a checkpoint, for offline checks (:func:`seoul_vc.verify_bundle`).
    """

    uri: str
    version: int
    sha256: bytes
    index: int
    size: int
    root_hash: bytes
    inclusion_proof: tuple[bytes, ...]
    bundle: str | None = None

    def to_json(self) -> JSONObject:
        """Return the receipt as JSON (hashes in standard base64, as checkpoints spell them)."""
        out: dict[str, JSONValue] = {
            "uri": self.uri,
            "version": self.version,
            "sha256": self.sha256.hex(),
            "index": self.index,
            "size": self.size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "inclusion_proof": [base64.b64encode(h).decode() for h in self.inclusion_proof],
        }
        if self.bundle is not None:
            out["bundle"] = self.bundle
        return out

    @classmethod
    def from_json(cls, value: JSONValue) -> AnchorReceipt:
        """Parse :meth:`to_json` output.

        Raises:
            MalformedInputError: ``malformed`` or ``invalid_encoding`` for a bad receipt.
        """
        if not isinstance(value, Mapping):
            raise MalformedInputError(Code.MALFORMED, "an anchor receipt is an object")
        try:
            proof = value["inclusion_proof"]
            bundle = value.get("bundle")
            receipt = cls(
                uri=str(value["uri"]),
                version=_int(value["version"]),
                sha256=bytes.fromhex(str(value["sha256"])),
                index=_int(value["index"]),
                size=_int(value["size"]),
                root_hash=b64_hash_decode(value["root_hash"]),
                inclusion_proof=tuple(
                    b64_hash_decode(h) for h in (proof if isinstance(proof, list) else [])
                ),
                bundle=bundle if isinstance(bundle, str) else None,
            )
        except (KeyError, ValueError) as exc:
            raise MalformedInputError(Code.MALFORMED, "bad anchor receipt") from exc
        return receipt


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError("not an integer")
    return value


class Anchor(Protocol):
    """Records a published status list version on the ledger (``ledger.anchor.LedgerAnchor``)."""

    def anchor(
        self, *, uri: str, version: int, sha256: bytes, size: int, bits: int
    ) -> AnchorReceipt:
        """Append the version's ``status.publish`` entry; return its receipt.

        Raises:
            StateConflictError: ``conflict`` for a version not above the latest anchored.
            PolicyError: ``untrusted_signer`` without a grant for ``status.publish``.
        """
        ...


class AnchorCheck(Protocol):
    """Anchored mode: is this exact list the latest one anchored for its URL?

    Implemented by :class:`seoul_vc.ledger.anchor.LedgerAnchorCheck`.
    """

    def check_anchored(self, *, uri: str, sha256: bytes) -> None:
        """Return if ``sha256`` is the latest anchored version of ``uri``.

        Raises:
            PolicyError: ``status_list_not_anchored``; ``witness_quorum_not_met``.
            VerificationError: for a checkpoint or proof that does not verify.
        """
        ...
