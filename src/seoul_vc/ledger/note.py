"""C2SP signed notes (https://c2sp.org/signed-note): sign and open, Ed25519 only.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(key ID || signature)``. The key ID is
``SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 key)[:4]`` (signature type 0x01).
Verifier keys are written ``<name>+<key ID hex>+base64(0x01 || key)``, the encoding of
Go's golang.org/x/mod/sumdb/note that witnesses and monitors exchange.

Opening follows the spec's "Signatures" section: signatures from unknown keys (name or ID
differ) are ignored; a signature from a known key must verify, else the whole note is
refused; at least one known key must have signed. The text is returned only after that.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.note import NoteSigner, open_note, sign_note
    >>> signer = NoteSigner("log.seoul.example", PrivateKey.generate("EdDSA"))
    >>> note = sign_note("tree head" + chr(10), [signer])
    >>> open_note(note, [signer.verifier]).text.strip()
    'tree head'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from seoul_vc.errors import Code, ConfigurationError, MalformedInputError, VerificationError
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "format_verifier_key",
    "keep_signatures",
    "key_id",
    "open_note",
    "parse_verifier_key",
    "sign_note",
    "signature_line",
]

#: Signature type identifier of plain Ed25519 note signatures.
ED25519_TYPE: Final = 0x01
#: Bound on signature lines; the spec requires accepting at least 16.
MAX_SIGNATURES: Final = 32
MAX_NOTE_BYTES: Final = 64 * 1024
_SIG_PREFIX: Final = "\u2014 "  # em dash, space
# Key names: non-empty, no Unicode white space, no "+" (and, being in a note, no controls).
_NAME_RE: Final = re.compile(r"[^\s+\x00-\x1f]+")
_STD_B64_RE: Final = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_CONTROL_RE: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")


def key_id(name: str, algorithm: int, public: bytes) -> int:
    """Return the C2SP key ID: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public).digest()
    return int.from_bytes(digest[:4], "big")


def _check_name(name: str) -> str:
    if _NAME_RE.fullmatch(name) is None:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "a note key name is non-empty with no spaces or '+'"
        )
    return name


def _ed25519_raw(key: PublicKey) -> bytes:
    if key.alg is not KeyAlgorithm.EDDSA:
        raise ConfigurationError(Code.BAD_ARGUMENT, "note keys are Ed25519")
    return base64.urlsafe_b64decode(key.to_jwk()["x"] + "=")


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted note key: its name, key ID and Ed25519 public key."""

    name: str
    key_id: int
    public_key: PublicKey

    @classmethod
    def for_key(cls, name: str, public_key: PublicKey) -> NoteVerifier:
        """Build the verifier of ``public_key`` under ``name``.

        Raises:
            ConfigurationError: ``bad_argument`` for a bad name or a non-Ed25519 key.
        """
        raw = _ed25519_raw(public_key)
        return cls(_check_name(name), key_id(name, ED25519_TYPE, raw), public_key)


class NoteSigner:
    """Signs note text with an Ed25519 key under a key name."""

    def __init__(self, name: str, key: PrivateKey) -> None:
        self._key = key
        self.verifier = NoteVerifier.for_key(name, key.public_key)

    @property
    def name(self) -> str:
        """The key name."""
        return self.verifier.name

    def signature_line(self, text: str) -> str:
        """Return the line ``— <name> base64(key ID || signature)`` (with newline)."""
        sig = self._key.sign(text.encode())
        blob = self.verifier.key_id.to_bytes(4, "big") + sig
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line of a note: key name, key ID and the signature bytes."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class Note:
    """An opened note: its text, every signature line, and the verifiers that verified."""

    text: str
    signatures: tuple[NoteSignature, ...]
    verified_by: tuple[NoteVerifier, ...]


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedInputError(Code.MALFORMED, "note text must end with a newline")
    if _CONTROL_RE.search(text):
        raise MalformedInputError(Code.MALFORMED, "note text contains control characters")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Return the signed note: ``text``, a blank line and one signature line per signer.

    Raises:
        MalformedInputError: ``malformed`` if ``text`` does not end in a newline or holds
            control characters.
        ConfigurationError: ``bad_argument`` without signers.
    """
    _check_text(text)
    if not signers:
        raise ConfigurationError(Code.BAD_ARGUMENT, "a note needs at least one signer")
    return text + "\n" + "".join(s.signature_line(text) for s in signers)


def _parse(data: str | bytes) -> tuple[str, list[NoteSignature]]:
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise MalformedInputError(Code.TOO_LARGE, "note is too large", limit=MAX_NOTE_BYTES)
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedInputError(Code.MALFORMED, "note is not UTF-8") from None
    if len(data.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise MalformedInputError(Code.TOO_LARGE, "note is too large", limit=MAX_NOTE_BYTES)
    if _CONTROL_RE.search(data):
        raise MalformedInputError(Code.MALFORMED, "note contains control characters")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise MalformedInputError(Code.MALFORMED, "note has no signature block")
    text, block = data[: split + 1], data[split + 2 :]
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedInputError(Code.TOO_LARGE, "note has too many signatures")
    signatures: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise MalformedInputError(Code.MALFORMED, "malformed note signature line")
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or _NAME_RE.fullmatch(name) is None or _STD_B64_RE.fullmatch(b64) is None:
            raise MalformedInputError(Code.MALFORMED, "malformed note signature line")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:  # pragma: no cover - excluded by the regex
            raise MalformedInputError(Code.MALFORMED, "malformed note signature") from None
        if base64.b64encode(blob).decode() != b64 or len(blob) < 5:
            raise MalformedInputError(Code.MALFORMED, "malformed note signature")
        signatures.append(NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
    return text, signatures


def signature_line(signature: NoteSignature) -> str:
    """The note signature line of ``signature``: ``— <name> <base64(key ID || sig)>``."""
    blob = signature.key_id.to_bytes(4, "big") + signature.signature
    return f"{_SIG_PREFIX}{signature.name} {base64.b64encode(blob).decode()}\n"


def keep_signatures(data: str | bytes, keys: Collection[tuple[str, int]]) -> str:
    """``data`` with only the signature lines of ``keys`` (name, key ID), in their order.

    Nothing is verified: the note is parsed as strictly as :func:`open_note` parses it, for
    a caller that passes its parts on to whoever verifies them.

    Raises:
        MalformedInputError: ``malformed``/``too_large`` for a note that does not parse, or
            ``malformed`` if none of ``keys`` signed it.
    """
    text, signatures = _parse(data)
    kept = [signature_line(s) for s in signatures if (s.name, s.key_id) in keys]
    if not kept:
        raise MalformedInputError(Code.MALFORMED, "the note carries no signature of those keys")
    return text + "\n" + "".join(kept)


def open_note(data: str | bytes, verifiers: Sequence[NoteVerifier]) -> Note:
    """Verify a signed note against trusted ``verifiers`` and return it.

    Raises:
        MalformedInputError: ``malformed`` or ``too_large`` for a note that does not parse.
        VerificationError: ``invalid_signature`` if a known key's signature fails, or if no
            known key signed the note.
    """
    text, signatures = _parse(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[NoteVerifier] = []
    checked: set[NoteSignature] = set()
    message = text.encode()
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue  # unknown key: ignored, as the spec requires
        if sig in checked:
            continue  # the same line again: one verification, however often it is repeated
        checked.add(sig)
        verifier.public_key.verify(message, sig.signature)
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        raise VerificationError(Code.INVALID_SIGNATURE, "no trusted key signed the note")
    return Note(text=text, signatures=tuple(signatures), verified_by=tuple(verified))


def format_verifier_key(verifier: NoteVerifier) -> str:
    """Return ``<name>+<key ID as 8 hex digits>+base64(0x01 || public key)``."""
    raw = _ed25519_raw(verifier.public_key)
    blob = base64.b64encode(bytes([ED25519_TYPE]) + raw).decode()
    return f"{verifier.name}+{verifier.key_id:08x}+{blob}"


def parse_verifier_key(text: str) -> NoteVerifier:
    """Parse a verifier key written by :func:`format_verifier_key` (or Go's note package).

    Raises:
        MalformedInputError: ``malformed`` for a bad layout, an unknown signature type or a
            key ID that does not match the key; key errors (``weak_key``...) for the key.
    """
    parts = text.split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise MalformedInputError(Code.MALFORMED, "verifier key is name+hex8+base64")
    name, id_hex, b64 = parts
    if _NAME_RE.fullmatch(name) is None or _STD_B64_RE.fullmatch(b64) is None:
        raise MalformedInputError(Code.MALFORMED, "verifier key is name+hex8+base64")
    blob = base64.b64decode(b64)
    if len(blob) != 33 or blob[0] != ED25519_TYPE:
        raise MalformedInputError(Code.MALFORMED, "verifier key is not an Ed25519 (0x01) key")
    public = PublicKey.from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(blob[1:]).decode()[:43]}
    )
    verifier = NoteVerifier.for_key(name, public)
    if verifier.key_id != int(id_hex, 16):
        raise MalformedInputError(Code.MALFORMED, "verifier key ID does not match the key")
    return verifier
