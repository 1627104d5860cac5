"""The vault's cryptography: per-wallet data keys, a master key, PIN verifiers, backups.

Room: wallet vault (DESIGN.md, "wallet data encrypted at rest with per-wallet keys wrapped by
a deployment master key, the PIN only authorises"). Every format is standard compact JWE
(RFC 7516 §7.1) over jwcrypto:

* a wallet's **data key** (256 random bits) is wrapped by the deployment's master key as a
  JWE with ``alg`` ``A256KW`` and ``enc`` ``A256GCM`` (RFC 7518 §4.4, §5.3): the CEK is
  random, the master key only wraps it. The protected header carries the master key's
  ``kid`` (a hash of the key, so a wrong key is told apart from a damaged record) and
  ``ctx``, the wallet id, so a wrapped key moved to another wallet does not open;
* every **record** (holder key, credential, consent, history event, PIN verifier) is a JWE
  with ``alg`` ``dir`` and ``enc`` ``A256GCM`` under the data key; its protected header —
  authenticated by GCM — carries ``ctx`` = ``<wallet>/<kind>/<record id>``, so a record
  swapped between rows or wallets fails like a corrupted one;
* a **backup** is a JWE with ``alg`` ``dir``/``enc`` ``A256GCM`` under a key derived from
  the backup passphrase by scrypt (RFC 7914), whose salt and cost ride in the protected
  header (``kdf``). The cost is read from the backup itself, so :func:`open_backup` bounds
  it before deriving anything (:data:`MAX_BACKUP_SCRYPT_MEMORY`,
  :data:`MAX_BACKUP_SCRYPT_WORK`).

The **PIN** is never a key: it is checked against an scrypt verifier (RFC 7914; default
N = 2^15, r = 8, p = 1) that is itself stored encrypted under the data key, so a stolen
database without the master key gives nothing to brute-force offline. Headers are checked
to be exactly the expected ones *before* jwcrypto sees the token (no ``zip``, no other
algorithm). A deployment that keeps its master key in a KMS implements :class:`MasterKey`.

Example:
    >>> from seoul_vc.wallet.vault import DataKey, LocalMasterKey
    >>> master, data = LocalMasterKey.generate(), DataKey.generate()
    >>> wrapped = master.wrap(data.secret, context="w1")
    >>> DataKey(master.unwrap(wrapped, context="w1")).open(
    ...     data.seal(b"secret", context="w1/credential/c1"), context="w1/credential/c1")
    b'secret'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwcrypto import jwe, jwk
from jwcrypto.common import JWException

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc._json import JSONObject
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    PolicyError,
    SeoulVCError,
    StorageError,
)

__all__ = [
    "BACKUP_SCRYPT",
    "MAX_BACKUP_BYTES",
    "MAX_BACKUP_SCRYPT_MEMORY",
    "MAX_BACKUP_SCRYPT_WORK",
    "MAX_RECORD_BYTES",
    "DataKey",
    "LocalMasterKey",
    "MasterKey",
    "ScryptParams",
    "check_pin",
    "check_pin_text",
    "hash_pin",
    "open_backup",
    "seal_backup",
]

#: Largest sealed record (a credential of ``Limits.max_token_bytes`` in base64url, plus room).
MAX_RECORD_BYTES: Final = 256 * 1024
#: Largest backup file.
MAX_BACKUP_BYTES: Final = 64 * 1024 * 1024
#: Most memory a backup's scrypt may take to open, 128·N·r bytes (RFC 7914 §2): 256 MiB.
#: Backups are sealed at N = 2^17, r = 8, p = 1 (128 MiB); PIN verifiers at the
#: :class:`ScryptParams` default N = 2^15, r = 8, p = 1 (32 MiB).
MAX_BACKUP_SCRYPT_MEMORY: Final = 256 * 1024 * 1024
#: Most work a backup's scrypt may take to open, N·r·p: 2^23, 8 times the backup default's
#: 2^20 (32 times the PIN default's 2^18); a few seconds of one core.
MAX_BACKUP_SCRYPT_WORK: Final = 2**20 * 8
_MAX_HEADER_BYTES: Final = 1024
_KEY_BYTES: Final = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class ScryptParams:
    """scrypt cost (RFC 7914 §2): N (a power of two), r, p. Defaults: 32 MiB, ~50 ms."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not (2 <= self.n <= 2**20 and self.n & (self.n - 1) == 0):
            raise ConfigurationError(Code.BAD_ARGUMENT, "scrypt N is a power of two up to 2^20")
        if not (1 <= self.r <= 32 and 1 <= self.p <= 16):
            raise ConfigurationError(Code.BAD_ARGUMENT, "scrypt r is 1..32 and p is 1..16")

    @property
    def memory(self) -> int:
        """Bytes scrypt's working array takes: 128·N·r (RFC 7914 §2, ``V``)."""
        return 128 * self.n * self.r

    @property
    def work(self) -> int:
        """The work N·r·p: scrypt's time grows linearly with it."""
        return self.n * self.r * self.p

    def derive(self, secret: str, salt: bytes) -> bytes:
        """Return 32 bytes of scrypt output for ``secret`` (UTF-8) and ``salt``.

        Takes :attr:`memory` bytes and time in proportion to :attr:`work`.
        """
        return hashlib.scrypt(
            secret.encode("utf-8"),
            salt=salt,
            n=self.n,
            r=self.r,
            p=self.p,
            # What OpenSSL allocates: V of 128·r·(N + 2) bytes and B of 128·r·p, plus room.
            maxmem=128 * self.r * (self.n + self.p + 2) + 1024 * 1024,
            dklen=_KEY_BYTES,
        )


def _corrupt(what: str) -> StorageError:
    return StorageError(Code.VAULT_RECORD_CORRUPT, f"{what} does not decrypt or was altered")


def _header(token: str, what: str) -> JSONObject:
    """Return the protected header of a compact JWE, bounded, without decrypting."""
    if len(token) > MAX_BACKUP_BYTES or token.count(".") != 4:
        raise _corrupt(what)
    encoded = token.split(".", 1)[0]
    if len(encoded) > _MAX_HEADER_BYTES:
        raise _corrupt(what)
    try:
        return _json.loads_object(
            b64url_decode(encoded, what="JWE header"), max_bytes=_MAX_HEADER_BYTES, max_depth=3
        )
    except MalformedInputError as exc:
        raise _corrupt(what) from exc


def _oct(secret: bytes) -> jwk.JWK:
    return jwk.JWK(kty="oct", k=b64url_encode(secret))


def _encrypt(plaintext: bytes, key: bytes, header: JSONObject) -> str:
    token = jwe.JWE(plaintext, protected=json.dumps(header, separators=(",", ":")))
    token.add_recipient(_oct(key))
    return str(token.serialize(compact=True))


def _decrypt(token: str, key: bytes, what: str) -> bytes:
    try:
        parsed = jwe.JWE()
        parsed.deserialize(token, key=_oct(key))
        payload = parsed.payload
    except (JWException, ValueError, TypeError) as exc:
        raise _corrupt(what) from exc
    if not isinstance(payload, bytes):
        raise _corrupt(what)
    return payload


class MasterKey(Protocol):
    """The deployment's master key, or a KMS that holds it: wraps per-wallet data keys.

    Attributes:
        key_id: names the key; stored with each wrapped key to tell a wrong key apart.
    """

    key_id: str

    def wrap(self, data_key: bytes, *, context: str) -> str:
        """Wrap a 32-byte data key for the wallet ``context``."""
        ...

    def unwrap(self, wrapped: str, *, context: str) -> bytes:
        """Unwrap a data key wrapped for ``context``.

        Raises:
            ConfigurationError: ``master_key_mismatch`` if another master key wrapped it.
            StorageError: ``vault_record_corrupt`` if the wrapped key was altered or moved.
        """
        ...


class LocalMasterKey:
    """A master key held in the process: JWE ``A256KW`` + ``A256GCM`` (RFC 7518 §4.4).

    Args:
        secret: 32 random bytes (keep it in the deployment's secret store).

    Raises:
        ConfigurationError: ``bad_argument`` for a key that is not 32 bytes.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) != _KEY_BYTES:
            raise ConfigurationError(Code.BAD_ARGUMENT, "a master key is 32 bytes")
        self._secret = secret
        digest = hashlib.sha256(b"seoul-vc/wallet-master-key/v1\n" + secret).digest()
        self.key_id = b64url_encode(digest[:12])

    @classmethod
    def generate(cls) -> LocalMasterKey:
        """Return a fresh random master key."""
        return cls(secrets.token_bytes(_KEY_BYTES))

    @classmethod
    def from_text(cls, text: str) -> LocalMasterKey:
        """Read a master key written by :meth:`to_text` (43 base64url characters).

        Raises:
            ConfigurationError: ``bad_argument`` for anything else.
        """
        try:
            return cls(b64url_decode(text.strip(), what="master key"))
        except MalformedInputError as exc:
            raise ConfigurationError(Code.BAD_ARGUMENT, "a master key is 43 base64url") from exc

    def to_text(self) -> str:
        """Return the key as unpadded base64url (a secret: store it as one)."""
        return b64url_encode(self._secret)

    def wrap(self, data_key: bytes, *, context: str) -> str:
        """Wrap a data key for ``context`` (see :class:`MasterKey`)."""
        header: JSONObject = {
            "alg": "A256KW",
            "enc": "A256GCM",
            "kid": self.key_id,
            "ctx": context,
        }
        return _encrypt(data_key, self._secret, header)

    def unwrap(self, wrapped: str, *, context: str) -> bytes:
        """Unwrap a data key (see :class:`MasterKey`)."""
        header = _header(wrapped, "the wrapped data key")
        if set(header) != {"alg", "enc", "kid", "ctx"} or header["alg"] != "A256KW":
            raise _corrupt("the wrapped data key")
        if header["kid"] != self.key_id:
            raise ConfigurationError(
                Code.MASTER_KEY_MISMATCH, "another master key wrapped this wallet's data key"
            )
        if header["ctx"] != context or header["enc"] != "A256GCM":
            raise _corrupt("the wrapped data key")
        key = _decrypt(wrapped, self._secret, "the wrapped data key")
        if len(key) != _KEY_BYTES:
            raise _corrupt("the wrapped data key")
        return key


class DataKey:
    """A wallet's data key: seals and opens its records (JWE ``dir`` + ``A256GCM``).

    Records are compact JWEs (RFC 7516 §7.1) read and written here with AES-GCM directly
    (every view opens several; jwcrypto's JWE object deep-copies a header registry each
    time); any JOSE library opens them with the data key.
    """

    __slots__ = ("secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != _KEY_BYTES:
            raise ConfigurationError(Code.BAD_ARGUMENT, "a data key is 32 bytes")
        self.secret = secret

    @classmethod
    def generate(cls) -> DataKey:
        """Return a fresh random data key."""
        return cls(secrets.token_bytes(_KEY_BYTES))

    def seal(self, plaintext: bytes, *, context: str) -> str:
        """Encrypt ``plaintext`` for the record named ``context`` (compact JWE, RFC 7516)."""
        header = {"alg": "dir", "enc": "A256GCM", "ctx": context}
        protected = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
        iv = secrets.token_bytes(12)
        # RFC 7516 §5.1: the AAD is the ASCII of the encoded protected header; "dir" has an
        # empty encrypted key (RFC 7518 §4.5); A256GCM's tag is the last 16 bytes (§5.3).
        sealed = AESGCM(self.secret).encrypt(iv, plaintext, protected.encode("ascii"))
        return ".".join(
            (
                protected,
                "",
                b64url_encode(iv),
                b64url_encode(sealed[:-16]),
                b64url_encode(sealed[-16:]),
            )
        )

    def open(self, token: str, *, context: str) -> bytes:
        """Decrypt the record named ``context``.

        Raises:
            StorageError: ``vault_record_corrupt`` for an altered, truncated, oversized or
                moved record.
        """
        if len(token) > MAX_RECORD_BYTES:
            raise _corrupt("a vault record")
        header = _header(token, "a vault record")
        if header != {"alg": "dir", "enc": "A256GCM", "ctx": context}:
            raise _corrupt("a vault record")
        protected, encrypted_key, iv, ciphertext, tag = token.split(".")
        try:
            if encrypted_key:
                raise _corrupt("a vault record")
            nonce = b64url_decode(iv, what="JWE iv")
            body = b64url_decode(ciphertext, what="JWE ciphertext")
            mac = b64url_decode(tag, what="JWE tag")
            if len(nonce) != 12 or len(mac) != 16:
                raise _corrupt("a vault record")
            return AESGCM(self.secret).decrypt(nonce, body + mac, protected.encode("ascii"))
        except (MalformedInputError, InvalidTag) as exc:
            raise _corrupt("a vault record") from exc

    def __repr__(self) -> str:
        return "DataKey(<secret>)"


# -- PINs ---------------------------------------------------------------------------------------


def check_pin_text(pin: str) -> None:
    """Check that ``pin`` is a PIN a verifier can be made of (no scrypt: cheap).

    Raises:
        ConfigurationError: ``bad_argument`` for a PIN outside 4 to 64 printable characters.
    """
    if not 4 <= len(pin) <= 64 or not pin.isprintable():
        raise ConfigurationError(Code.BAD_ARGUMENT, "a PIN is 4 to 64 printable characters")


def hash_pin(pin: str, params: ScryptParams | None = None) -> JSONObject:
    """Return the scrypt verifier of a PIN: ``{"kdf", "n", "r", "p", "salt", "hash"}``.

    Raises:
        ConfigurationError: ``bad_argument`` for a PIN outside 4 to 64 printable characters.
    """
    check_pin_text(pin)
    cost = params or ScryptParams()
    salt = secrets.token_bytes(16)
    return {
        "kdf": "scrypt",
        "n": cost.n,
        "r": cost.r,
        "p": cost.p,
        "salt": b64url_encode(salt),
        "hash": b64url_encode(cost.derive(pin, salt)),
    }


def check_pin(pin: str, verifier: JSONObject) -> bool:
    """Return whether ``pin`` matches a verifier from :func:`hash_pin` (constant time).

    Raises:
        StorageError: ``vault_record_corrupt`` for a verifier of the wrong shape.
    """
    try:
        n, r, p = verifier["n"], verifier["r"], verifier["p"]
        if not (isinstance(n, int) and isinstance(r, int) and isinstance(p, int)):
            raise _corrupt("the PIN verifier")
        cost = ScryptParams(n=n, r=r, p=p)
        salt = b64url_decode(str(verifier["salt"]), what="salt")
        expected = b64url_decode(str(verifier["hash"]), what="hash")
    except (KeyError, SeoulVCError) as exc:
        raise _corrupt("the PIN verifier") from exc
    try:
        check_pin_text(pin)
    except ConfigurationError:
        return False
    return hmac.compare_digest(cost.derive(pin, salt), expected)


# -- backups ------------------------------------------------------------------------------------

#: The cost backups are sealed at unless the caller names another: 128 MiB, work 2^20.
BACKUP_SCRYPT: Final = ScryptParams(n=2**17, r=8, p=1)
_BACKUP_BOUNDS: Final = (
    "a backup's scrypt may take 256 MiB (128*N*r) and a work N*r*p of 2^23; "
    "backups are sealed at N = 2^17, r = 8, p = 1"
)


def _backup_cost_too_high(n: int, r: int, p: int) -> bool:
    return 128 * n * r > MAX_BACKUP_SCRYPT_MEMORY or n * r * p > MAX_BACKUP_SCRYPT_WORK


def seal_backup(plaintext: bytes, passphrase: str, params: ScryptParams | None = None) -> str:
    """Encrypt a backup under a passphrase (scrypt, then JWE ``dir`` + ``A256GCM``).

    The default cost is N = 2^17, r = 8, p = 1: 128 MiB and about half a second of one core.
    A cost :func:`open_backup` would refuse is refused here, so every backup written opens.

    Raises:
        ConfigurationError: ``bad_argument`` for a passphrase outside 12 to 1024 characters,
            or ``params`` past :data:`MAX_BACKUP_SCRYPT_MEMORY` or
            :data:`MAX_BACKUP_SCRYPT_WORK`.
    """
    if not 12 <= len(passphrase) <= 1024:
        raise ConfigurationError(Code.BAD_ARGUMENT, "a backup passphrase is 12+ characters")
    cost = params or BACKUP_SCRYPT
    if _backup_cost_too_high(cost.n, cost.r, cost.p):
        raise ConfigurationError(Code.BAD_ARGUMENT, _BACKUP_BOUNDS)
    salt = secrets.token_bytes(16)
    header: JSONObject = {
        "alg": "dir",
        "enc": "A256GCM",
        "cty": "seoul-vc-wallet-backup+json",
        "kdf": {
            "alg": "scrypt",
            "n": cost.n,
            "r": cost.r,
            "p": cost.p,
            "salt": b64url_encode(salt),
        },
    }
    return _encrypt(plaintext, cost.derive(passphrase, salt), header)


def _backup_kdf(token: str) -> tuple[int, int, int, str]:
    """The scrypt N, r, p and salt a backup's header names, checked for shape only."""
    header = _header(token, "the backup")
    kdf = header.get("kdf")
    if (
        set(header) != {"alg", "enc", "cty", "kdf"}
        or header["alg"] != "dir"
        or header["enc"] != "A256GCM"
        or not isinstance(kdf, dict)
        or set(kdf) != {"alg", "n", "r", "p", "salt"}
        or kdf["alg"] != "scrypt"
    ):
        raise _corrupt("the backup")
    n, r, p, salt = kdf["n"], kdf["r"], kdf["p"], kdf["salt"]
    if not (isinstance(n, int) and isinstance(r, int) and isinstance(p, int)):
        raise _corrupt("the backup")
    if any(isinstance(v, bool) for v in (n, r, p)) or min(n, r, p) < 1:
        raise _corrupt("the backup")
    if not isinstance(salt, str):
        raise _corrupt("the backup")
    return n, r, p, salt


def open_backup(token: str, passphrase: str) -> bytes:
    """Decrypt a backup from :func:`seal_backup`.

    The scrypt cost is the backup's own (its header's ``kdf``), so it is bounded before
    anything is derived: at most :data:`MAX_BACKUP_SCRYPT_MEMORY` (256 MiB of 128·N·r) and
    :data:`MAX_BACKUP_SCRYPT_WORK` (N·r·p of 2^23, 8 times the backup default's). Backups
    are sealed at N = 2^17, r = 8, p = 1 (128 MiB, work 2^20); PIN verifiers use the
    :class:`ScryptParams` default N = 2^15, r = 8, p = 1 (32 MiB, work 2^18). Cost: one
    scrypt within those bounds (about half a second of one core at the backup default, a
    few seconds at the bound); a refused header costs nothing.

    Raises:
        MalformedInputError: ``backup_too_costly`` for a backup whose header names a cost
            past the bounds (nothing is derived).
        PolicyError: ``unlock_failed`` for a wrong passphrase or a damaged backup (one code).
    """
    try:
        n, r, p, salt = _backup_kdf(token)
    except SeoulVCError as exc:
        raise PolicyError(Code.UNLOCK_FAILED, "the backup does not open") from exc
    if _backup_cost_too_high(n, r, p):
        # Its own code, not the opaque unlock_failed: the cost sits in the backup's
        # plaintext header, which anyone holding the file reads, so naming it tells a
        # guesser nothing about the passphrase; and a citizen told "wrong passphrase" would
        # keep retrying one that can never work. Refused before scrypt allocates its
        # 128·N·r bytes or spends its N·r·p (RFC 7914 §2).
        raise MalformedInputError(
            Code.BACKUP_TOO_COSTLY,
            _BACKUP_BOUNDS,
            max_memory=MAX_BACKUP_SCRYPT_MEMORY,
            max_work=MAX_BACKUP_SCRYPT_WORK,
        )
    try:
        key = ScryptParams(n=n, r=r, p=p).derive(passphrase, b64url_decode(salt, what="salt"))
        return _decrypt(token, key, "the backup")
    except SeoulVCError as exc:
        raise PolicyError(Code.UNLOCK_FAILED, "the backup does not open") from exc
