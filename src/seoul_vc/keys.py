"""Keys: Ed25519 (EdDSA) and P-256 (ES256), JWK in and out, RFC 7638 thumbprints, Multikey.

Import is strict and fails closed — every key that enters seoul_vc (a JWK file, a ``cnf``
claim, a did:key or did:jwk identifier, a DID document) passes through :meth:`PublicKey.from_jwk`
or :meth:`PublicKey.from_multikey`:

* Ed25519 (RFC 8032 §5.1.3): ``x`` is exactly 32 bytes, ``y < p`` (canonical), the point is on
  the curve, and it is not one of the eight small-order points. OpenSSL verifies *any* message
  under the identity key ``01 00..00`` with a trivial signature; small-order keys are refused
  with ``weak_key``.
* P-256 (SEC 1 §2.3.3-2.3.4): ``x`` and ``y`` are exactly 32 bytes each and the point is on the
  curve (``cryptography`` checks it); Multikey uses the 33-byte compressed form.
* A JWK with private members (``d``...) where a public key is expected is refused with
  ``private_key_material`` rather than silently stripped: a caller that hands us a private
  key by mistake must learn it.

Signatures use ``cryptography`` directly. jwcrypto's JWA signing engines are thin wrappers over
the same calls (measured at raw speed), but importing a key through ``jwcrypto.jwk.JWK`` costs
35-60 us against 2.5-9 us here, paid once per holder key in every presentation; the tests check
that our JWKs and thumbprints agree with jwcrypto's.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> key = PrivateKey.generate("ES256")
    >>> sig = key.sign(b"hello")
    >>> key.public_key.verify(b"hello", sig)
    >>> key.public_key.to_jwk()["crv"]
    'P-256'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from seoul_vc import _json
from seoul_vc._encoding import (
    b64url_decode,
    b64url_encode,
    decode_multibase_base58btc,
    decode_varint_prefix,
    encode_multibase_base58btc,
)
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    StateConflictError,
    VerificationError,
)

__all__ = ["KeyAlgorithm", "PrivateKey", "PublicKey", "load_public_key"]


class KeyAlgorithm(StrEnum):
    """The signature algorithms seoul_vc supports (JOSE names, RFC 7518 §3.4 / RFC 8037)."""

    EDDSA = "EdDSA"
    ES256 = "ES256"


# --- Ed25519 point checks (RFC 8032 §5.1.3) -------------------------------------------------
_P: Final = 2**255 - 19
_D: Final = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)
# The y-coordinates of the eight points of order dividing 8: the identity (y = 1), the point
# of order 2 (y = -1), the two of order 4 (y = 0) and the four of order 8 (y = +-Y8, where
# Y8^2 = (-1 + sqrt(1 + d)) / d). libsodium's blocklist lists the same points by encoding;
# tests/unit/test_keys.py recomputes this set with point arithmetic.
_Y8: Final = 0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826
_SMALL_ORDER_Y: Final = frozenset({0, 1, _P - 1, _Y8, _P - _Y8})

# multicodec table entries (https://github.com/multiformats/multicodec, table.csv).
_MULTICODEC_ED25519_PUB: Final = 0xED
_MULTICODEC_P256_PUB: Final = 0x1200
_PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# Stateless and reusable; building it per call costs ~3 us of a ~80 us verification.
_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())


def _check_ed25519_point(raw: bytes) -> None:
    if len(raw) != 32:
        raise MalformedInputError(Code.INVALID_KEY, "an Ed25519 key is 32 bytes", size=len(raw))
    encoded = int.from_bytes(raw, "little")
    y = encoded & ((1 << 255) - 1)
    x_sign = encoded >> 255
    if y >= _P:
        raise MalformedInputError(Code.INVALID_KEY, "Ed25519 key is not canonically encoded")
    if y in _SMALL_ORDER_Y:
        raise MalformedInputError(Code.WEAK_KEY, "Ed25519 key is a small-order point")
    # Recover x^2 = (y^2 - 1) / (d y^2 + 1); the point is on the curve iff it is a square.
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x2 = u * pow(v, -1, _P) % _P  # the modular inverse (extended Euclid: ~10x Fermat's)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        raise MalformedInputError(Code.INVALID_KEY, "Ed25519 key is not a point on the curve")
    if x == 0 and x_sign:  # pragma: no cover - x == 0 only for y = +-1, refused above
        raise MalformedInputError(Code.INVALID_KEY, "Ed25519 key is not canonically encoded")


def _member(jwk: Mapping[str, object], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise MalformedInputError(Code.INVALID_KEY, f"JWK member {name!r} is missing or not text")
    return value


def _fixed(jwk: Mapping[str, object], name: str, size: int) -> bytes:
    data = b64url_decode(_member(jwk, name), what=_MEMBER_NAMES.get(name) or f"JWK member {name!r}")
    if len(data) != size:
        raise MalformedInputError(
            Code.INVALID_KEY, f"JWK member {name!r} must be {size} bytes", size=len(data)
        )
    return data


_SECP256R1: Final = ec.SECP256R1()
_MEMBER_NAMES: Final = {name: f"JWK member {name!r}" for name in ("x", "y", "d")}
_JWK_ALGS: Final = {
    KeyAlgorithm.EDDSA: frozenset({"EdDSA", "Ed25519"}),
    KeyAlgorithm.ES256: frozenset({"ES256"}),
}


def _check_common_members(jwk: Mapping[str, object]) -> KeyAlgorithm:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        alg = KeyAlgorithm.EDDSA
    elif kty == "EC" and crv == "P-256":
        alg = KeyAlgorithm.ES256
    else:
        raise MalformedInputError(
            Code.INVALID_KEY, "only OKP/Ed25519 and EC/P-256 JWKs are supported"
        )
    declared = jwk.get("alg")
    if declared is not None and declared not in _JWK_ALGS[alg]:
        raise MalformedInputError(Code.INVALID_KEY, "JWK 'alg' does not fit its key type")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise MalformedInputError(Code.INVALID_KEY, "JWK 'use' must be 'sig'")
    return alg


class PublicKey:
    """A validated Ed25519 or P-256 public key.

    Instances are immutable and compare equal when algorithm and key bytes are equal.
    Build them with :meth:`from_jwk` or :meth:`from_multikey`; never from unchecked bytes.
    """

    __slots__ = ("_alg", "_jwk", "_key", "_raw")

    def __init__(
        self,
        alg: KeyAlgorithm,
        key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey,
        raw: bytes,
    ) -> None:
        self._alg = alg
        self._key = key
        self._raw = raw
        self._jwk: dict[str, str] | None = None

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PublicKey:
        """Import a public JWK (RFC 7517, RFC 8037 for OKP) strictly.

        Raises:
            MalformedInputError: ``private_key_material`` if private members are present;
                ``invalid_key`` for unsupported types, bad lengths or off-curve points;
                ``weak_key`` for small-order Ed25519 points; ``invalid_encoding`` for
                non-canonical base64url.
        """
        if type(jwk) is not dict and not isinstance(jwk, Mapping):  # the ABC check is slow
            raise MalformedInputError(Code.INVALID_KEY, "a JWK must be a JSON object")
        if not _PRIVATE_JWK_MEMBERS.isdisjoint(jwk):
            raise MalformedInputError(
                Code.PRIVATE_KEY_MATERIAL, "a public JWK was expected but private members are set"
            )
        alg = _check_common_members(jwk)
        if alg is KeyAlgorithm.EDDSA:
            return cls._ed25519(_fixed(jwk, "x", 32))
        return cls._p256(b"\x04" + _fixed(jwk, "x", 32) + _fixed(jwk, "y", 32))

    @classmethod
    def from_multikey(cls, multibase: str) -> PublicKey:
        """Import a Multikey ``publicKeyMultibase`` value (base58btc + multicodec header).

        Supports ``ed25519-pub`` (0xed) and ``p256-pub`` (0x1200, 33-byte compressed point), as
        the did:key method and Controlled Identifiers 1.0 §2.2.2 (Multikey) define them.

        Raises:
            MalformedInputError: ``invalid_encoding``, ``invalid_key`` or ``weak_key``.
        """
        data = decode_multibase_base58btc(multibase, what="multikey", max_chars=128)
        codec, raw = decode_varint_prefix(data, what="multikey")
        if codec == _MULTICODEC_ED25519_PUB:
            return cls._ed25519(raw)
        if codec == _MULTICODEC_P256_PUB:
            if len(raw) != 33 or raw[0] not in (2, 3):
                raise MalformedInputError(
                    Code.INVALID_KEY, "a p256-pub multikey is a 33-byte compressed point"
                )
            return cls._p256(raw)
        raise MalformedInputError(Code.INVALID_KEY, "multikey codec is not ed25519-pub or p256-pub")

    @classmethod
    def _ed25519(cls, raw: bytes) -> PublicKey:
        _check_ed25519_point(raw)
        return cls(KeyAlgorithm.EDDSA, ed25519.Ed25519PublicKey.from_public_bytes(raw), raw)

    @classmethod
    def _p256(cls, encoded_point: bytes) -> PublicKey:
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(_SECP256R1, encoded_point)
        except ValueError as exc:
            raise MalformedInputError(
                Code.INVALID_KEY, "P-256 key is not a point on the curve"
            ) from exc
        if len(encoded_point) == 65:  # already the uncompressed point (SEC 1 §2.3.3)
            return cls(KeyAlgorithm.ES256, key, encoded_point)
        raw = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return cls(KeyAlgorithm.ES256, key, raw)

    # -- accessors --------------------------------------------------------------------------
    @property
    def alg(self) -> KeyAlgorithm:
        """The JOSE algorithm this key signs with."""
        return self._alg

    def to_jwk(self) -> dict[str, str]:
        """Return the public JWK (only the members RFC 7638 requires, plus nothing)."""
        if self._jwk is None:
            if self._alg is KeyAlgorithm.EDDSA:
                self._jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self._raw)}
            else:
                self._jwk = {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": b64url_encode(self._raw[1:33]),
                    "y": b64url_encode(self._raw[33:65]),
                }
        return dict(self._jwk)  # a copy: callers may change theirs

    def thumbprint(self) -> str:
        """Return the RFC 7638 JWK thumbprint (SHA-256, base64url).

        The required members in lexicographic order, no whitespace (RFC 7638 §3.2-3.3).
        """
        return b64url_encode(hashlib.sha256(_json.canonical(self.to_jwk())).digest())

    def to_multikey(self) -> str:
        """Return the Multikey ``publicKeyMultibase`` form (``z6Mk...`` or ``zDn...``)."""
        if self._alg is KeyAlgorithm.EDDSA:
            return encode_multibase_base58btc(b"\xed\x01" + self._raw)
        compressed = self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        return encode_multibase_base58btc(b"\x80\x24" + compressed)

    # -- verification -----------------------------------------------------------------------
    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify a JOSE signature: 64 bytes, Ed25519 or ``r || s`` for ES256 (RFC 7518 §3.4).

        Raises:
            VerificationError: ``invalid_signature`` if the length is not exactly 64 bytes or
                the signature does not verify.
        """
        if len(signature) != 64:
            raise VerificationError(
                Code.INVALID_SIGNATURE, "signature must be 64 bytes", size=len(signature)
            )
        try:
            if isinstance(self._key, ed25519.Ed25519PublicKey):
                self._key.verify(signature, message)
            else:
                r = int.from_bytes(signature[:32], "big")
                s = int.from_bytes(signature[32:], "big")
                if not (0 < r < _P256_ORDER and 0 < s < _P256_ORDER):
                    raise InvalidSignature
                der = encode_dss_signature(r, s)
                self._key.verify(der, message, _ECDSA_SHA256)
        except InvalidSignature:
            raise VerificationError(Code.INVALID_SIGNATURE, "signature does not verify") from None

    # -- value semantics --------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._alg is other._alg and self._raw == other._raw

    def __hash__(self) -> int:
        return hash((self._alg, self._raw))

    def __repr__(self) -> str:
        return f"PublicKey({self._alg.value}, thumbprint={self.thumbprint()})"


class PrivateKey:
    """An Ed25519 or P-256 signing key. Its ``repr`` never shows private material."""

    __slots__ = ("_key", "_public")

    def __init__(
        self, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey, public: PublicKey
    ) -> None:
        self._key = key
        self._public = public

    @classmethod
    def generate(cls, alg: KeyAlgorithm | str = KeyAlgorithm.EDDSA) -> PrivateKey:
        """Generate a fresh key with the operating system's CSPRNG.

        Raises:
            ConfigurationError: ``bad_argument`` for an algorithm other than EdDSA or ES256.
        """
        algorithm = _algorithm(alg)
        if algorithm is KeyAlgorithm.EDDSA:
            return cls._from_crypto(ed25519.Ed25519PrivateKey.generate())
        return cls._from_crypto(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def _from_crypto(
        cls, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    ) -> PrivateKey:
        if isinstance(key, ed25519.Ed25519PrivateKey):
            public = key.public_key()
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            # No point check: a public key derived from a private scalar is [s]B with s
            # clamped to a multiple of 8 (RFC 8032 §5.1.5), on the curve and of prime order.
            return cls(key, PublicKey(KeyAlgorithm.EDDSA, public, raw))
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return cls(key, PublicKey._p256(point))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PrivateKey:
        """Import a private JWK; the public members must match the private scalar.

        Raises:
            MalformedInputError: ``invalid_key`` (missing ``d``, wrong lengths, scalar out of
                range, public members that do not match), ``weak_key``, ``invalid_encoding``.
        """
        if type(jwk) is not dict and not isinstance(jwk, Mapping):  # the ABC check is slow
            raise MalformedInputError(Code.INVALID_KEY, "a JWK must be a JSON object")
        if "d" not in jwk:
            raise MalformedInputError(Code.INVALID_KEY, "a private JWK needs the member 'd'")
        public = PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "d"})
        d = _fixed(jwk, "d", 32)
        key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
        if public.alg is KeyAlgorithm.EDDSA:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(d)
        else:
            scalar = int.from_bytes(d, "big")
            if not 0 < scalar < _P256_ORDER:
                raise MalformedInputError(Code.INVALID_KEY, "P-256 scalar is out of range")
            key = ec.derive_private_key(scalar, ec.SECP256R1())
        private = cls._from_crypto(key)
        if private.public_key != public:
            raise MalformedInputError(
                Code.INVALID_KEY, "JWK public members do not match its private key"
            )
        return private

    @property
    def public_key(self) -> PublicKey:
        """The matching public key."""
        return self._public

    @property
    def alg(self) -> KeyAlgorithm:
        """The JOSE algorithm this key signs with."""
        return self._public.alg

    def sign(self, message: bytes) -> bytes:
        """Sign ``message``: 64 bytes, Ed25519 or ES256 ``r || s`` (RFC 7518 §3.4)."""
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(message)
        r, s = decode_dss_signature(self._key.sign(message, _ECDSA_SHA256))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def private_jwk(self) -> dict[str, str]:
        """Return the private JWK, including ``d``. Handle the result as a secret."""
        jwk = self._public.to_jwk()
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            d = self._key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        else:
            d = self._key.private_numbers().private_value.to_bytes(32, "big")
        return {**jwk, "d": b64url_encode(d)}

    # -- files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the private JWK to ``path`` with mode 0600, atomically.

        The file is created with mode 0600 from the start (never chmod-ed afterwards), written
        to a temporary name in the same folder, fsynced and renamed into place.

        Raises:
            StateConflictError: ``already_exists`` if ``path`` exists and not ``overwrite``.
            ConfigurationError: ``unreadable_input`` if the folder cannot be written.
        """
        target = Path(path)
        if target.exists() and not overwrite:
            raise StateConflictError(Code.ALREADY_EXISTS, "key file exists; not overwriting")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        data = _json.dumps(self.private_jwk()) + b"\n"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            if overwrite:
                os.replace(tmp, target)
            else:
                os.link(tmp, target)  # fails if a file appeared meanwhile
                os.unlink(tmp)
        except FileExistsError as exc:
            tmp.unlink(missing_ok=True)
            raise StateConflictError(
                Code.ALREADY_EXISTS, "key file exists; not overwriting"
            ) from exc
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ConfigurationError(
                Code.UNREADABLE_INPUT, f"cannot write key file: {exc.strerror}"
            ) from exc

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_bytes: int = 16 * 1024) -> PrivateKey:
        """Read a private JWK file written by :meth:`save` (or any RFC 7517 private JWK).

        Raises:
            NotFoundError: ``not_found`` if the file does not exist.
            ConfigurationError: ``unreadable_input`` if it cannot be read.
            MalformedInputError: as :func:`seoul_vc._json.loads` and :meth:`from_jwk`.
        """
        data = _read_bounded(Path(path), max_bytes)
        return cls.from_jwk(_json.loads_object(data, max_bytes=max_bytes, max_depth=4, what="JWK"))

    def __repr__(self) -> str:
        return f"PrivateKey({self.alg.value}, thumbprint={self._public.thumbprint()})"


def load_public_key(path: str | os.PathLike[str], *, max_bytes: int = 16 * 1024) -> PublicKey:
    """Read a public JWK file; a private JWK file yields its public key.

    Raises:
        NotFoundError, ConfigurationError, MalformedInputError: as :meth:`PrivateKey.load`.
    """
    data = _read_bounded(Path(path), max_bytes)
    jwk = _json.loads_object(data, max_bytes=max_bytes, max_depth=4, what="JWK")
    if "d" in jwk:
        return PrivateKey.from_jwk(jwk).public_key
    return PublicKey.from_jwk(jwk)


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise NotFoundError(Code.NOT_FOUND, f"no such file: {path.name}") from exc
    except OSError as exc:
        raise ConfigurationError(
            Code.UNREADABLE_INPUT, f"cannot read {path.name}: {exc.strerror}"
        ) from exc
    if len(data) > max_bytes:
        raise MalformedInputError(Code.TOO_LARGE, f"{path.name} exceeds {max_bytes} bytes")
    return data


def _algorithm(alg: KeyAlgorithm | str) -> KeyAlgorithm:
    try:
        return KeyAlgorithm(alg)
    except ValueError:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "algorithm must be EdDSA or ES256", alg=str(alg)[:32]
        ) from None
