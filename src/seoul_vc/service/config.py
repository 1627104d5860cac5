"""The service's configuration: one JSON file naming the deployment's keys, stores and roles.

Room: service (surface). A deployment is one agency's (or the city's) instance; it runs the
roles its file names — ``issuer`` (OpenID4VCI), ``verifier`` (OpenID4VP), ``wallet`` (the
Citizen Card backend) — and always the ledger and the public documents (status lists, DID
document, metadata). Paths are relative to the file. Example::

    {
      "public_url": "https://vc.seoul.example",
      "data_dir": "data",
      "ledger": {"origin": "ledger.seoul.example", "operator_key": "keys/operator.jwk",
                 "witnesses": ["<C2SP vkey>"], "witness_threshold": 1},
      "trust": "trust.json",
      "issuer": {"key": "keys/issuer.jwk", "api_tokens": ["sha256:<hex>"]},
      "verifier": {"key": "keys/verifier.jwk", "api_tokens": ["sha256:<hex>"]},
      "wallet": {"master_key": "keys/master.key"}
    }

``data_dir`` keeps one SQLite file per room; ``database`` (``postgresql://...``) puts every
room in one PostgreSQL database instead, each in its own schema ``<prefix>_<room>`` (the
prefix is the URL's ``schema=`` parameter, default ``seoul_vc``). API tokens are stored as
digests (:func:`seoul_vc.service._http.token_digest`); the tokens themselves are printed once
by ``seoul-vc serve-init``. The service's DID is the did:web of ``public_url``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import quote, urlsplit

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.types import CREDENTIAL_TYPES
from seoul_vc.errors import Code, ConfigurationError, SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.wallet.vault import MAX_BACKUP_BYTES, LocalMasterKey

__all__ = ["ServiceConfig", "WitnessConfig", "did_web_of", "init_config"]

_MAX_CONFIG_BYTES: Final = 256 * 1024
DEFAULT_MAX_BODY: Final = 256 * 1024
#: A wallet restore's body bound by default: the backup of a wallet with years of history.
DEFAULT_MAX_RESTORE: Final = 16 * 1024 * 1024
#: The highest restore bound: the largest backup the library seals, with passphrase and PIN.
MAX_RESTORE_CEILING: Final = MAX_BACKUP_BYTES + 16 * 1024
_ROOMS: Final = ("ledger", "wallet", "status", "service")


def _bad(message: str, **details: str | int) -> ConfigurationError:
    return ConfigurationError(Code.BAD_ARGUMENT, message, **details)


def did_web_of(public_url: str) -> str:
    """The did:web DID whose document lives at ``public_url``'s ``/.well-known/did.json``.

    The port's colon is percent-encoded (did:web spec §3.2.1); a path becomes ``:`` segments.

    >>> did_web_of("https://localhost:8443")
    'did:web:localhost%3A8443'
    >>> did_web_of("https://vc.seoul.example/housing")
    'did:web:vc.seoul.example:housing'
    """
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise _bad("public_url is an https URL without query or fragment")
    host = parts.hostname if parts.port is None else f"{parts.hostname}%3A{parts.port}"
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleConfig:
    """One role's key and the digests of the agency API tokens allowed to drive it."""

    key: PrivateKey
    api_tokens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessConfig:
    """The witness role: its cosigning key and name, its memory, and the logs it serves.

    Attributes:
        key: the Ed25519 cosigning key; name: its key name (C2SP tlog-cosignature).
        state_path: the file remembering the latest cosigned tree per log.
        logs: the note vkeys of the logs it cosigns for (each one's name is its origin).
    """

    key: PrivateKey
    name: str
    state_path: str
    logs: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceConfig:
    """A parsed configuration (see the module docstring).

    Attributes:
        public_url: the service's public HTTPS base URL (issuer identifier, DID, links).
        stores: the store URL of each room (``ledger``, ``wallet``, ``status``, ``service``).
        origin: the ledger's C2SP origin; operator_key: its operator and checkpoint key.
        witnesses: the C2SP verifier keys (vkeys) of the witnesses whose cosignatures are
            accepted; witness_threshold: how many a checkpoint needs to count as witnessed.
        trust: the trust registry document (which issuer may issue which type).
        issuer, verifier: the roles' keys and API token digests, or None when not run.
        master_key: the wallet vault's master key, or None when the wallet is not run.
        witness: the witness role (C2SP tlog-witness ``add-checkpoint``), or None.
        max_body_bytes: the largest request body accepted, except a wallet restore's.
        max_restore_bytes: the largest wallet restore body accepted (a backup, its
            passphrase and the new PIN), at most :data:`MAX_RESTORE_CEILING`.
        tls_ca_file: a CA bundle for outgoing HTTPS (default: the system store).
        unsafe_allow_private_addresses: outgoing fetches may reach loopback and private
            addresses (tests and closed networks only).
    """

    public_url: str
    stores: dict[str, str]
    origin: str
    operator_key: PrivateKey
    witnesses: tuple[str, ...] = ()
    witness_threshold: int = 0
    trust: JSONObject = field(default_factory=lambda: {"issuers": []})
    issuer: RoleConfig | None = None
    verifier: RoleConfig | None = None
    master_key: LocalMasterKey | None = None
    witness: WitnessConfig | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_restore_bytes: int = DEFAULT_MAX_RESTORE
    tls_ca_file: str | None = None
    unsafe_allow_private_addresses: bool = False

    @property
    def did(self) -> str:
        """The service's did:web DID."""
        return did_web_of(self.public_url)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ServiceConfig:
        """Read and check a configuration file.

        Raises:
            ConfigurationError: ``unreadable_input`` or ``bad_argument`` naming the field.
        """
        base = Path(path).parent
        try:
            with open(path, "rb") as handle:
                raw = handle.read(_MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            raise ConfigurationError(Code.UNREADABLE_INPUT, "cannot read the config") from exc
        try:
            doc = _json.loads_object(
                raw, max_bytes=_MAX_CONFIG_BYTES, max_depth=8, what="service config"
            )
        except SeoulVCError as exc:
            raise _bad(f"the config is not a JSON object: {exc.message}") from exc
        return cls.from_json(doc, base=base)

    @classmethod
    def from_json(cls, doc: JSONObject, *, base: Path) -> ServiceConfig:
        """Build a configuration from its JSON form, reading files relative to ``base``."""
        known = {
            "public_url", "data_dir", "database", "ledger", "trust", "issuer", "verifier",
            "wallet", "witness", "max_body_bytes", "max_restore_bytes", "tls_ca_file",
            "unsafe_allow_private_addresses",
        }  # fmt: skip
        unknown = sorted(set(doc) - known)
        if unknown:
            raise _bad("unknown config field", field=unknown[0])
        public_url = _text(doc, "public_url").rstrip("/")
        did_web_of(public_url)
        ledger = _object(doc, "ledger")
        witnesses = ledger.get("witnesses", [])
        if not isinstance(witnesses, list) or not all(isinstance(w, str) for w in witnesses):
            raise _bad("ledger.witnesses is a list of vkeys", field="ledger.witnesses")
        threshold = ledger.get("witness_threshold", 1 if witnesses else 0)
        if not isinstance(threshold, int) or not 0 <= threshold <= len(witnesses):
            raise _bad("witness_threshold is 0..len(witnesses)", field="ledger.witness_threshold")
        trust = doc.get("trust", {"issuers": []})
        if isinstance(trust, str):
            trust = _read_json(base / trust, "trust")
        if not isinstance(trust, dict):
            raise _bad("trust is a registry object or a file name", field="trust")
        wallet = doc.get("wallet")
        master = None
        if wallet is not None:
            if not isinstance(wallet, dict):
                raise _bad("wallet is an object", field="wallet")
            master = LocalMasterKey.from_text(_read_text(base / _text(wallet, "master_key")))
        body = _bytes(doc, "max_body_bytes", DEFAULT_MAX_BODY, 16 << 20, "16 MiB")
        restore = _bytes(
            doc, "max_restore_bytes", DEFAULT_MAX_RESTORE, MAX_RESTORE_CEILING, "64 MiB + 16 KiB"
        )
        ca = doc.get("tls_ca_file")
        if ca is not None and not isinstance(ca, str):
            raise _bad("tls_ca_file is a file name", field="tls_ca_file")
        unsafe = doc.get("unsafe_allow_private_addresses", False)
        if not isinstance(unsafe, bool):
            raise _bad("unsafe_allow_private_addresses is true or false")
        return cls(
            public_url=public_url,
            stores=_stores(doc, base),
            origin=_text(ledger, "origin"),
            operator_key=_key(base, ledger, "operator_key"),
            witnesses=tuple(str(w) for w in witnesses),
            witness_threshold=threshold,
            trust=trust,
            issuer=_role(doc, "issuer", base),
            verifier=_role(doc, "verifier", base),
            master_key=master,
            witness=_witness(doc, base),
            max_body_bytes=body,
            max_restore_bytes=restore,
            tls_ca_file=str(base / ca) if ca is not None else None,
            unsafe_allow_private_addresses=unsafe,
        )


def _bytes(doc: JSONObject, name: str, default: int, ceiling: int, said: str) -> int:
    value = doc.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1024 <= value <= ceiling:
        raise _bad(f"{name} is 1 KiB to {said}", field=name)
    return value


def _text(doc: JSONObject, name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise _bad(f"{name} is a non-empty string", field=name)
    return value


def _object(doc: JSONObject, name: str) -> JSONObject:
    value = doc.get(name)
    if not isinstance(value, dict):
        raise _bad(f"{name} is an object", field=name)
    return value


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")[:4096]
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(Code.UNREADABLE_INPUT, f"cannot read {path.name}") from exc


def _read_json(path: Path, what: str) -> JSONValue:
    try:
        raw = path.read_bytes()[: _MAX_CONFIG_BYTES + 1]
    except OSError as exc:
        raise ConfigurationError(Code.UNREADABLE_INPUT, f"cannot read the {what} file") from exc
    return _json.loads_object(raw, max_bytes=_MAX_CONFIG_BYTES, max_depth=8, what=what)


def _key(base: Path, doc: JSONObject, name: str) -> PrivateKey:
    return PrivateKey.load(base / _text(doc, name))


def _witness(doc: JSONObject, base: Path) -> WitnessConfig | None:
    value = doc.get("witness")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad("witness is an object", field="witness")
    unknown = sorted(set(value) - {"key", "name", "state", "logs"})
    if unknown:
        raise _bad("unknown witness field", field=f"witness.{unknown[0]}")
    logs = value.get("logs")
    if not isinstance(logs, list) or not logs or not all(isinstance(v, str) for v in logs):
        raise _bad("witness.logs is a non-empty list of log vkeys", field="witness.logs")
    return WitnessConfig(
        key=_key(base, value, "key"),
        name=_text(value, "name"),
        state_path=str(base / _text(value, "state")),
        logs=tuple(str(v) for v in logs),
    )


def _role(doc: JSONObject, name: str, base: Path) -> RoleConfig | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(f"{name} is an object", field=name)
    tokens = value.get("api_tokens", [])
    if not isinstance(tokens, list) or not all(
        isinstance(t, str) and t.startswith("sha256:") and len(t) == 71 for t in tokens
    ):
        raise _bad(f"{name}.api_tokens are sha256:<hex> digests", field=f"{name}.api_tokens")
    return RoleConfig(key=_key(base, value, "key"), api_tokens=tuple(str(t) for t in tokens))


def _stores(doc: JSONObject, base: Path) -> dict[str, str]:
    database, data_dir = doc.get("database"), doc.get("data_dir")
    if (database is None) == (data_dir is None):
        raise _bad("give exactly one of data_dir (SQLite) and database (PostgreSQL)")
    if database is not None:
        if not isinstance(database, str) or not database.startswith("postgresql://"):
            raise _bad("database is a postgresql:// URL", field="database")
        # Each room gets its own schema: <prefix>_<room>, the prefix from ?schema= if given.
        url, _, query = database.partition("?")
        params = [p for p in query.split("&") if p]
        named = [p for p in params if p.startswith("schema=")]
        prefix = named[0].removeprefix("schema=") if named else "seoul_vc"
        rest = [p for p in params if not p.startswith("schema=")]
        return {room: f"{url}?{'&'.join([*rest, f'schema={prefix}_{room}'])}" for room in _ROOMS}
    if not isinstance(data_dir, str):
        raise _bad("data_dir is a folder name", field="data_dir")
    folder = base / data_dir
    folder.mkdir(parents=True, exist_ok=True)
    return {room: f"sqlite:{folder / f'{room}.db'}" for room in _ROOMS}


def init_config(
    folder: str | os.PathLike[str],
    *,
    public_url: str,
    origin: str | None = None,
    tokens: dict[str, str] | None = None,
) -> tuple[Path, dict[str, str]]:
    """Write a new deployment folder: keys, master key, trust registry and config file.

    The service trusts its own issuer for every known credential type. Returns the config
    path and the API tokens per role (``issuer``, ``verifier``): fresh random ones unless
    ``tokens`` gives them (shown once; only digests are stored).

    Raises:
        ConfigurationError: ``bad_argument`` if the folder already holds a config.
    """
    from seoul_vc.service._http import token_digest

    root = Path(folder)
    config_path = root / "service.json"
    if config_path.exists():
        raise _bad("the folder already holds a service.json")
    did = did_web_of(public_url.rstrip("/"))
    (root / "keys").mkdir(parents=True, exist_ok=True)
    for name in ("operator", "issuer", "verifier"):
        PrivateKey.generate().save(root / "keys" / f"{name}.jwk")
    master = root / "keys" / "master.key"
    master.write_text(LocalMasterKey.generate().to_text() + "\n", encoding="utf-8")
    os.chmod(master, 0o600)
    trust = {"issuers": [{"id": did, "types": sorted(CREDENTIAL_TYPES)}]}
    (root / "trust.json").write_text(json.dumps(trust, indent=2) + "\n", encoding="utf-8")
    tokens = {role: secrets.token_urlsafe(32) for role in ("issuer", "verifier")} | dict(
        tokens or {}
    )
    config = {
        "public_url": public_url.rstrip("/"),
        "data_dir": "data",
        "ledger": {
            "origin": origin or urlsplit(public_url).hostname or "ledger",
            "operator_key": "keys/operator.jwk",
            "witnesses": [],
        },
        "trust": "trust.json",
        "issuer": {"key": "keys/issuer.jwk", "api_tokens": [token_digest(tokens["issuer"])]},
        "verifier": {
            "key": "keys/verifier.jwk",
            "api_tokens": [token_digest(tokens["verifier"])],
        },
        "wallet": {"master_key": "keys/master.key"},
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return config_path, tokens
