"""Proof bundles: one ledger entry that anyone can verify offline, years later.

A :class:`ProofBundle` carries everything needed to show that an entry is in the ledger: the
entry's canonical bytes, its index, its RFC 9162 inclusion proof (§2.1.3.1) and the signed,
witness-cosigned checkpoint (C2SP tlog-checkpoint, tlog-cosignature v1) whose tree the proof
leads to. :func:`verify_bundle` needs no network and no database — only the origin, the log's
note key and the witness policy the verifier already trusts. The signer of a ledger entry is a
self-certifying DID (did:key, did:jwk), so its signature checks offline too.

The log side builds a bundle with :func:`make_bundle` from a checkpoint it signed; witnesses
cosign that checkpoint first (:class:`~seoul_vc.ledger.witness.Witness`).

The JSON form, version 1 (:meth:`ProofBundle.to_json`), is one object with exactly these
members, written in RFC 8785 canonical form::

    {
      "checkpoint": "<the signed, cosigned checkpoint note, as text>",
      "entry": "<base64url, unpadded, of the entry's canonical bytes>",
      "inclusion_proof": ["<standard base64 of a 32-byte hash>", ...],
      "index": <the entry's index, an integer below 2**53>,
      "version": 1
    }

The proof hashes are in RFC 9162 order (the sibling nearest the leaf first) and spelt as the
checkpoint spells its root hash and as RFC 6962 §4 spells proofs in JSON: standard, padded
base64. :meth:`ProofBundle.from_json` accepts only that spelling, refuses other members,
duplicate member names and oversized documents, and the index must be an I-JSON integer
(RFC 7493 §2.2) because larger JSON numbers do not survive every parser.

Witness keys are exchanged as C2SP vkeys ``<name>+<key ID hex>+base64(0x04 || key)``:
:func:`format_cosigner_key` and :func:`parse_cosigner_key` (the log's own key uses
:func:`seoul_vc.ledger.note.format_verifier_key`, type 0x01).

Example:
    >>> import os, tempfile
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.bundle import ProofBundle, make_bundle, verify_bundle
    >>> from seoul_vc.ledger.checkpoint import CosignerKey, WitnessPolicy, cosign
    >>> from seoul_vc.ledger.log import Ledger
    >>> from seoul_vc.ledger.note import NoteSigner
    >>> origin, operator = "ledger.seoul.example", PrivateKey.generate()
    >>> log = NoteSigner(origin, PrivateKey.generate())
    >>> witness = CosignerKey("nhis.example/witness", PrivateKey.generate())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ledger = Ledger.open("sqlite:" + os.path.join(tmp, "ledger.db"))
    ...     _ = ledger.genesis(origin=origin, operator=operator)
    ...     note = cosign(ledger.checkpoint(log), log.verifier, witness, timestamp=1767225600)
    ...     text = make_bundle(ledger, 0, note).to_json()
    ...     ledger.close()
    >>> policy = WitnessPolicy(witnesses=(witness.verifier,), threshold=1)
    >>> entry = verify_bundle(ProofBundle.from_json(text), origin=origin,
    ...                       log_key=log.verifier, witnesses=policy)
    >>> entry.type
    'authority.genesis'
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from seoul_vc import _json
from seoul_vc._encoding import b64_hash_decode, b64url_decode, b64url_encode
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    VerificationError,
)
from seoul_vc.keys import PublicKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.checkpoint import (
    COSIGNATURE_TYPE,
    CosignerVerifier,
    WitnessPolicy,
    open_checkpoint,
    parse_checkpoint,
)
from seoul_vc.ledger.entry import MAX_ENTRY_BYTES, Entry
from seoul_vc.ledger.note import MAX_NOTE_BYTES, NoteVerifier

if TYPE_CHECKING:
    from seoul_vc.ledger.log import Ledger

__all__ = [
    "BUNDLE_VERSION",
    "MAX_BUNDLE_BYTES",
    "ProofBundle",
    "format_cosigner_key",
    "make_bundle",
    "parse_cosigner_key",
    "verify_bundle",
]

#: The version member of the JSON form this module writes and reads.
BUNDLE_VERSION: Final = 1
#: Bound on a bundle's JSON text: a maximal entry in base64url (under 22 KiB), a maximal note
#: with every newline escaped (under 128 KiB) and a full proof (64 hashes, under 4 KiB).
MAX_BUNDLE_BYTES: Final = 256 * 1024
#: An inclusion proof in a ``uint64`` tree has at most 64 hashes (RFC 9162 §2.1.3.1).
_MAX_PROOF_HASHES: Final = 64
#: The largest index written as a JSON number: I-JSON's interoperable integers (RFC 7493 §2.2).
_MAX_JSON_INDEX: Final = 2**53 - 1
_JSON_DEPTH: Final = 2
_MEMBERS: Final = frozenset({"version", "entry", "index", "inclusion_proof", "checkpoint"})
_KEY_NAME_RE: Final = re.compile(r"[^\s+\x00-\x1f]+")
#: base64 of 33 bytes (type byte and Ed25519 key): 44 characters, no padding, no spare bits.
_VKEY_BLOB_RE: Final = re.compile(r"[A-Za-z0-9+/]{44}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofBundle:
    """An entry, its inclusion proof and the cosigned checkpoint the proof leads to.

    The constructor checks nothing; :func:`verify_bundle` checks everything.

    Attributes:
        entry: the entry's canonical bytes (the Merkle leaf, :meth:`Entry.to_bytes`).
        index: the entry's position in the log, from 0.
        proof: the inclusion proof of ``entry`` at ``index`` in the checkpoint's tree.
        checkpoint: the checkpoint as a signed note, log signature and cosignatures included.
    """

    entry: bytes
    index: int
    proof: tlog.InclusionProof
    checkpoint: str

    def to_json(self) -> str:
        """Return the bundle's JSON text (version 1, RFC 8785 canonical; see the module).

        Raises:
            ConfigurationError: ``bad_argument`` for an index outside ``0..2**53 - 1`` or a
                proof hash that is not 32 bytes.
        """
        if not 0 <= self.index <= _MAX_JSON_INDEX:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "a bundle's index must be below 2**53", index=self.index
            )
        if any(len(h) != tlog.HASH_SIZE for h in self.proof.hashes):
            raise ConfigurationError(Code.BAD_ARGUMENT, "a proof hash is not 32 bytes")
        proof: list[JSONValue] = [base64.b64encode(h).decode() for h in self.proof.hashes]
        document: JSONObject = {
            "version": BUNDLE_VERSION,
            "entry": b64url_encode(self.entry),
            "index": self.index,
            "inclusion_proof": proof,
            "checkpoint": self.checkpoint,
        }
        return _json.canonical(document).decode()

    @classmethod
    def from_json(cls, data: str | bytes) -> ProofBundle:
        """Parse a bundle's JSON text strictly (see the module for the format).

        Parsing checks shapes and sizes only; the bundle proves nothing until
        :func:`verify_bundle` accepts it.

        Raises:
            MalformedInputError: ``too_large`` past :data:`MAX_BUNDLE_BYTES` (or an entry,
                note or proof past its own bound), ``too_deep``, ``duplicate_key``,
                ``malformed`` for other members, a wrong version or mistyped values,
                ``invalid_encoding`` for a hash or entry that is not canonically encoded.
        """
        document = _json.loads_object(
            data, max_bytes=MAX_BUNDLE_BYTES, max_depth=_JSON_DEPTH, what="proof bundle"
        )
        if set(document) != _MEMBERS:
            raise MalformedInputError(
                Code.MALFORMED,
                "a proof bundle has exactly checkpoint/entry/inclusion_proof/index/version",
            )
        version = document["version"]
        if type(version) is not int or version != BUNDLE_VERSION:
            raise MalformedInputError(Code.MALFORMED, "unknown proof bundle version")
        index = document["index"]
        if type(index) is not int or not 0 <= index <= _MAX_JSON_INDEX:
            raise MalformedInputError(
                Code.MALFORMED, "a bundle's index is an integer in 0..2**53 - 1", field="index"
            )
        return cls(
            entry=_decode_entry(document["entry"]),
            index=index,
            proof=tlog.InclusionProof(hashes=_decode_proof(document["inclusion_proof"])),
            checkpoint=_decode_checkpoint(document["checkpoint"]),
        )


def _decode_entry(value: JSONValue) -> bytes:
    if not isinstance(value, str):
        raise MalformedInputError(Code.MALFORMED, "a bundle's entry is text", field="entry")
    if len(value) > (MAX_ENTRY_BYTES * 4 + 2) // 3:
        raise MalformedInputError(
            Code.TOO_LARGE, "a bundle's entry is too large", limit=MAX_ENTRY_BYTES
        )
    return b64url_decode(value, what="entry")


def _decode_proof(value: JSONValue) -> tuple[tlog.Hash, ...]:
    if not isinstance(value, list):
        raise MalformedInputError(
            Code.MALFORMED, "inclusion_proof is a list of hashes", field="inclusion_proof"
        )
    if len(value) > _MAX_PROOF_HASHES:
        raise MalformedInputError(
            Code.TOO_LARGE, "inclusion_proof has too many hashes", limit=_MAX_PROOF_HASHES
        )
    return tuple(_decode_hash(item) for item in value)


def _decode_hash(value: JSONValue) -> tlog.Hash:
    if not isinstance(value, str):
        raise MalformedInputError(
            Code.MALFORMED, "a proof hash is base64 text", field="inclusion_proof"
        )
    raw = b64_hash_decode(value, what="inclusion_proof")
    return tlog.Hash(raw)


def _decode_checkpoint(value: JSONValue) -> str:
    if not isinstance(value, str):
        raise MalformedInputError(
            Code.MALFORMED, "a bundle's checkpoint is note text", field="checkpoint"
        )
    if len(value.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise MalformedInputError(
            Code.TOO_LARGE, "a bundle's checkpoint is too large", limit=MAX_NOTE_BYTES
        )
    return value


# -- building (log side) ------------------------------------------------------------------------


def make_bundle(ledger: Ledger, index: int, checkpoint_note: str) -> ProofBundle:
    """Build the bundle of entry ``index`` against ``checkpoint_note``'s tree.

    The proof is for the checkpoint's tree size, so the bundle verifies against that
    checkpoint however far the log has grown since. The checkpoint must describe this log:
    its origin and its root at that size are compared with the ledger's own before anything
    is returned (the signatures are the verifier's business; the log signed the note).

    Cost: one read of the entry and ``O(log size)`` stored hashes.

    Raises:
        MalformedInputError: ``malformed``/``too_large`` for a note or checkpoint text that
            does not parse.
        VerificationError: ``origin_mismatch`` for another log's checkpoint;
            ``log_fork_detected`` if the ledger's root at the checkpoint's size differs.
        NotFoundError: ``not_found`` if ``index`` is not in the log.
        ConfigurationError: ``bad_argument`` if the checkpoint is larger than the log or does
            not cover ``index``.
    """
    checkpoint = parse_checkpoint(_note_text(checkpoint_note))
    if checkpoint.origin != ledger.origin:
        raise VerificationError(Code.ORIGIN_MISMATCH, "the checkpoint is for another log")
    size = checkpoint.size
    if not 0 <= index < ledger.size:
        raise NotFoundError(Code.NOT_FOUND, "no entry at that index", index=index)
    if index >= size:
        raise ConfigurationError(
            Code.BAD_ARGUMENT,
            "the checkpoint does not cover that entry; sign a newer one",
            index=index,
            size=size,
        )
    root = ledger.root(size)
    if root != checkpoint.root_hash:
        raise VerificationError(
            Code.LOG_FORK_DETECTED,
            "the ledger's root differs from the checkpoint's at its size",
            size=size,
            root=root.hex(),
            checkpoint_root=checkpoint.root_hash.hex(),
        )
    return ProofBundle(
        entry=ledger.entry(index).to_bytes(),
        index=index,
        proof=ledger.prove_inclusion(index, size),
        checkpoint=checkpoint_note,
    )


def _note_text(note: str) -> str:
    """Return the text a signed note signs: everything before its blank line."""
    if len(note) > MAX_NOTE_BYTES:  # each character is at least one UTF-8 byte
        raise MalformedInputError(Code.TOO_LARGE, "note is too large", limit=MAX_NOTE_BYTES)
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedInputError(Code.MALFORMED, "note has no signature block")
    return note[: split + 1]


# -- verifying (anyone, offline) ----------------------------------------------------------------


def verify_bundle(
    bundle: ProofBundle,
    *,
    origin: str,
    log_key: NoteVerifier,
    witnesses: WitnessPolicy,
) -> Entry:
    """Verify a proof bundle offline and return its entry.

    Steps, each of which must pass before the next runs:

    1. Open the checkpoint: the log's note signature, then the origin, then M of N witness
       cosignatures (:func:`~seoul_vc.ledger.checkpoint.open_checkpoint`).
    2. The index lies inside the checkpoint's tree.
    3. The inclusion proof leads from the entry's leaf hash to the checkpoint's root
       (RFC 9162 §2.1.3.2).
    4. The entry parses, bounded and canonical (:meth:`Entry.from_bytes`).
    5. The entry's signature verifies under its self-certifying signer DID.

    Cost: the log signature, at most one signature per trusted witness, at most 64 hashes and
    the entry's signature. No network, no database, no clock.

    Args:
        bundle: the bundle, as from :meth:`ProofBundle.from_json`.
        origin: the log the verifier expects.
        log_key: the log operator's note key.
        witnesses: which witnesses must have cosigned, and how many
            (:meth:`WitnessPolicy.unwitnessed` trusts the log's signature alone).

    Raises:
        VerificationError: ``invalid_signature`` (log signature missing or bad, a trusted
            witness's cosignature bad, or the entry's signature bad); ``origin_mismatch``;
            ``proof_arguments_invalid`` for an index outside the tree or a proof of the wrong
            length; ``inclusion_proof_invalid`` if the proof does not reach the root.
        PolicyError: ``witness_quorum_not_met`` when fewer than M trusted witnesses cosigned.
        MalformedInputError: ``malformed``/``too_large`` for a checkpoint note that does not
            parse; ``malformed``, ``invalid_did``, ``invalid_encoding`` and key errors for an
            entry that does not parse.
    """
    # (1) Signature before parsing, origin, then the witness quorum (C2SP tlog-checkpoint).
    opened = open_checkpoint(
        bundle.checkpoint, origin=origin, log_key=log_key, witnesses=witnesses
    ).checkpoint
    size = opened.size
    # (2) The checkpoint's tree must hold the index at all.
    if not 0 <= bundle.index < size:
        raise VerificationError(
            Code.PROOF_ARGUMENTS_INVALID,
            "the index is outside the checkpoint's tree",
            index=bundle.index,
            size=size,
        )
    # (3) RFC 9162 §2.1.3.2: the leaf is SHA-256(0x00 || entry bytes).
    tlog.check_inclusion(
        bundle.proof, size, tlog.Hash(opened.root_hash), bundle.index, tlog.leaf_hash(bundle.entry)
    )
    # (4) Only bytes the log vouched for are parsed.
    entry = Entry.from_bytes(bundle.entry)
    # (5) did:key/did:jwk carry their key, so no resolution (and no network) is needed.
    entry.verify_signature()
    return entry


# -- witness keys ---------------------------------------------------------------------------------


def format_cosigner_key(verifier: CosignerVerifier) -> str:
    """Return the C2SP vkey ``<name>+<key ID as 8 hex digits>+base64(0x04 || key)``."""
    raw = base64.urlsafe_b64decode(verifier.public_key.to_jwk()["x"] + "=")
    blob = base64.b64encode(bytes([COSIGNATURE_TYPE]) + raw).decode()
    return f"{verifier.name}+{verifier.key_id:08x}+{blob}"


def parse_cosigner_key(text: str) -> CosignerVerifier:
    """Parse a witness vkey written by :func:`format_cosigner_key` (C2SP tlog-cosignature).

    Raises:
        MalformedInputError: ``malformed`` for a bad layout, a key type other than 0x04
            (timestamped Ed25519 cosignatures) or a key ID that does not match the key;
            ``invalid_key``/``weak_key`` for the key itself.
    """
    parts = text.split("+", 2)  # the base64 key may itself contain "+"
    if (
        len(parts) != 3
        or _KEY_NAME_RE.fullmatch(parts[0]) is None
        or re.fullmatch(r"[0-9a-f]{8}", parts[1]) is None
        or _VKEY_BLOB_RE.fullmatch(parts[2]) is None
    ):
        raise MalformedInputError(Code.MALFORMED, "a witness vkey is name+hex8+base64")
    name, id_hex, b64 = parts
    blob = base64.b64decode(b64, validate=True)  # the regex admits only canonical text
    if blob[0] != COSIGNATURE_TYPE:
        raise MalformedInputError(
            Code.MALFORMED, "a witness vkey is a cosignature (0x04) Ed25519 key"
        )
    public = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(blob[1:])})
    verifier = CosignerVerifier.for_key(name, public)
    if verifier.key_id != int(id_hex, 16):
        raise MalformedInputError(Code.MALFORMED, "the witness vkey's ID does not match its key")
    return verifier
