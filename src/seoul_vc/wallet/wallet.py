"""The wallet service a mobile backend embeds: many citizens' wallets over one store.

Room: wallet facade. :class:`WalletService` holds every wallet in one store
(:mod:`seoul_vc.wallet._store`: SQLite by default, PostgreSQL for deployments) next to one
:class:`~seoul_vc.ledger.log.Ledger`; :class:`CitizenWallet` is one citizen's view of it.
Safe across threads and processes: every check-then-write (PIN counters, history chain) is
one serialized store transaction, and every view budget is enforced by the ledger's consent
application inside the append transaction.

Who authorises what:

* the **PIN** authorises the citizen's own acts — list, show, delete, consent grant and
  withdrawal, history, PIN change, export. Five wrong PINs lock the wallet; before that,
  each failure imposes a longer wait (:data:`PIN_DELAYS`). It is never a key;
* a **consent** authorises the verifier's views: :meth:`WalletService.view` needs no PIN,
  only a signed request from the consented verifier, and the ledger's budget;
* the **master key** (or the KMS behind :class:`~seoul_vc.wallet.vault.MasterKey`) opens
  the vault for the service itself.

A view (item 5 of the issue) runs: load the consent → hold the verifier the request
claims against the consent's, before any DID is resolved → verify the request's signature
and its verifier → check the held credentials' status → append ``consent.view`` (view k of
consent c by verifier v for nonce hash h), retrying with k+1 when a concurrent view took k
→ only then build the presentations of exactly the consented claims → a view receipt
against a fresh checkpoint. Each refusal of a verified request is appended as
``consent.refusal`` and written to the citizen's history; a request refused before it was
verified is recorded nowhere, since nothing in it can be attributed.

Example:
    >>> import os, tempfile
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.log import Ledger
    >>> from seoul_vc.ledger.note import NoteSigner
    >>> from seoul_vc.credentials import TrustRegistry
    >>> from seoul_vc.wallet import LocalMasterKey, ScryptParams, WalletService
    >>> tmp = tempfile.mkdtemp()
    >>> ledger = Ledger.open("sqlite:" + os.path.join(tmp, "ledger.db"))
    >>> _ = ledger.genesis(origin="ledger.seoul.example", operator=PrivateKey.generate())
    >>> service = WalletService(
    ...     "sqlite:" + os.path.join(tmp, "wallet.db"), ledger=ledger,
    ...     master_key=LocalMasterKey.generate(),
    ...     trust=TrustRegistry.from_json({"issuers": [{"id": "did:web:mois.example",
    ...                                                 "types": ["ResidencyCredential"]}]}),
    ...     log_signer=NoteSigner("ledger.seoul.example", PrivateKey.generate()),
    ...     pin_cost=ScryptParams(n=2**10))
    >>> wallet = service.create("123456")
    >>> wallet.credentials("123456")
    []
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials import StatusSource, TrustPolicy, Verifier, sd_jwt
from seoul_vc.credentials.issuer import did_of
from seoul_vc.credentials.oid4vci import format_key_proof
from seoul_vc.credentials.sd_jwt import ClaimPath, format_claim_path, parse_claim_path
from seoul_vc.credentials.types import find_by_vct
from seoul_vc.did import Resolver, self_certifying_key
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
    StorageError,
    UnavailableError,
)
from seoul_vc.jose import parse_compact
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey
from seoul_vc.ledger.apps.consent import GRANT, REFUSAL, REFUSAL_REASONS, VIEW, WITHDRAW
from seoul_vc.ledger.bundle import make_bundle
from seoul_vc.ledger.checkpoint import parse_checkpoint
from seoul_vc.ledger.entry import sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.limits import Limits
from seoul_vc.wallet._store import Tx, WalletStore, open_wallet_store
from seoul_vc.wallet.consent import (
    ConsentGrant,
    ConsentItem,
    ViewReceipt,
    credential_ref,
    new_consent_id,
    new_id,
    nonce_hash,
)
from seoul_vc.wallet.history import (
    EVENT_KINDS,
    GENESIS_HEAD,
    LEDGER_TYPE_OF,
    HistoryEvent,
    chain_next,
)
from seoul_vc.wallet.present import build_presentation
from seoul_vc.wallet.request import PresentationRequest, claimed_verifier, open_request
from seoul_vc.wallet.vault import (
    MAX_BACKUP_BYTES,
    DataKey,
    MasterKey,
    ScryptParams,
    check_pin,
    check_pin_text,
    hash_pin,
    open_backup,
    seal_backup,
)

__all__ = [
    "MAX_PIN_FAILURES",
    "PIN_DELAYS",
    "CitizenWallet",
    "ConsentedPresentation",
    "HeldCredential",
    "WalletService",
]

#: Wrong PINs in a row after which the wallet locks for good (restore a backup to recover).
MAX_PIN_FAILURES: Final = 5
#: Seconds to wait before the next PIN try after 1, 2, 3 and 4 wrong PINs in a row.
PIN_DELAYS: Final = (0, 5, 30, 120)
#: Times one PIN try is judged again when concurrent tries on its wallet keep changing the
#: count before it is recorded (each round is one scrypt).
_PIN_RACES: Final = 4
_MAX_VIEW_RETRIES: Final = 256
_BACKUP_VERSION: Final = 1
_KEY_CACHE_ENTRIES: Final = 4096
#: Record ids a backup may carry: those :func:`~seoul_vc.wallet.consent.new_id` makes.
_RECORD_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldCredential:
    """A credential in a wallet: its id and what it is (never its claims).

    Attributes:
        id: the wallet's id for it; type: its credential type (or ``vct``); issuer: ``iss``.
        received_at: POSIX seconds; revoked: the wallet saw its status turn revoked.
    """

    id: str
    type: str
    vct: str
    issuer: str
    received_at: int
    revoked: bool = False

    def to_json(self) -> JSONObject:
        """Return the credential's metadata as JSON."""
        return {
            "id": self.id,
            "type": self.type,
            "vct": self.vct,
            "issuer": self.issuer,
            "received_at": self.received_at,
            "revoked": self.revoked,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentedPresentation:
    """What the wallet hands the verifier for one view.

    Attributes:
        vp_token: OpenID4VP 1.0 §8.1: Credential Query id -> presentations.
        receipt: the view receipt; view: k; max_views: N.
    """

    vp_token: dict[str, list[str]]
    receipt: ViewReceipt
    view: int
    max_views: int

    def to_json(self) -> JSONObject:
        """Return ``{"vp_token": ..., "receipt": ...}``."""
        receipt = _json.loads_object(
            self.receipt.to_json().encode(), max_bytes=1 << 20, max_depth=4
        )
        return {
            "vp_token": {k: list(v) for k, v in self.vp_token.items()},
            "receipt": receipt,
        }


def _json_record(data: bytes) -> JSONObject:
    return _json.loads_object(data, max_bytes=1 << 20, max_depth=16, what="vault record")


class WalletService:
    """Every citizen's wallet over one store and one ledger; see the module docstring.

    Args:
        store_url: ``sqlite:PATH`` or ``postgresql://...`` (may be the ledger's database).
        ledger: the ledger consents and views are recorded on.
        master_key: wraps each wallet's data key (a KMS implements
            :class:`~seoul_vc.wallet.vault.MasterKey`).
        trust: which issuer may issue which type (checked on receipt).
        log_signer: signs the checkpoints view receipts are proved against.
        witness: optional, adds witness cosignatures to a fresh checkpoint note.
        status: checks credential status on receipt and before each view.
        resolver: DID resolver for did:web issuers and verifiers.
        clock: time source (PIN delays, expiry, entry times); limits: bounds.
        pin_cost: scrypt cost of new PIN verifiers.
    """

    def __init__(
        self,
        store_url: str,
        *,
        ledger: Ledger,
        master_key: MasterKey,
        trust: TrustPolicy,
        log_signer: NoteSigner,
        witness: Callable[[str], str] | None = None,
        status: StatusSource | None = None,
        resolver: Resolver | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
        pin_cost: ScryptParams | None = None,
    ) -> None:
        self._store: WalletStore = open_wallet_store(store_url)
        self.ledger = ledger
        self._master = master_key
        self._trust = trust
        self._log_signer = log_signer
        self._witness = witness
        self._status = status
        self._resolver = resolver
        self._clock = clock or SystemClock()
        self._limits = limits or Limits()
        self._pin_cost = pin_cost or ScryptParams()
        self._key_cache: OrderedDict[tuple[str, str], DataKey] = OrderedDict()
        self._key_lock = threading.Lock()

    def close(self) -> None:
        """Close the wallet store (the ledger is the caller's)."""
        self._store.close()

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def wallet(self, wallet_id: str) -> CitizenWallet:
        """Return the facade of one wallet (no I/O)."""
        return CitizenWallet(self, wallet_id)

    # -- vault plumbing --------------------------------------------------------------------
    def _data_key(self, tx: Tx, wallet_id: str) -> tuple[DataKey, list[Any]]:
        rows = tx.execute(
            "SELECT wrapped_key, pin, failures, failed_at, history_seq, history_head "
            "FROM {p}wallet_wallets WHERE wallet_id = ?",
            (wallet_id,),
        )
        if not rows:
            raise NotFoundError(Code.NOT_FOUND, "no such wallet")
        row = list(rows[0])
        return self._unwrap(wallet_id, str(row[0])), row

    def _unwrap(self, wallet_id: str, wrapped: str) -> DataKey:
        """The wallet's data key, unwrapped by the master key once and kept (bounded LRU).

        The process holds the master key (or a KMS session) anyway; keeping the unwrapped
        keys of recently used wallets spares a KMS round trip per transaction. Keyed by
        the wrapped text, so a re-wrapped key is unwrapped afresh.
        """
        cache_key = (wallet_id, wrapped)
        with self._key_lock:
            found = self._key_cache.get(cache_key)
            if found is not None:
                self._key_cache.move_to_end(cache_key)
                return found
        key = DataKey(self._master.unwrap(wrapped, context=wallet_id))
        with self._key_lock:
            self._key_cache[cache_key] = key
            while len(self._key_cache) > _KEY_CACHE_ENTRIES:
                self._key_cache.popitem(last=False)
        return key

    @staticmethod
    def _put(
        tx: Tx, key: DataKey, wallet_id: str, kind: str, rid: str, obj: Mapping[str, JSONValue]
    ) -> None:
        body = key.seal(_json.canonical(dict(obj)), context=f"{wallet_id}/{kind}/{rid}")
        tx.execute(
            "DELETE FROM {p}wallet_records WHERE wallet_id = ? AND kind = ? AND record_id = ?",
            (wallet_id, kind, rid),
        )
        tx.execute(
            "INSERT INTO {p}wallet_records (wallet_id, kind, record_id, body) VALUES (?, ?, ?, ?)",
            (wallet_id, kind, rid, body),
        )

    @staticmethod
    def _get(tx: Tx, key: DataKey, wallet_id: str, kind: str, rid: str) -> JSONObject:
        rows = tx.execute(
            "SELECT body FROM {p}wallet_records WHERE wallet_id = ? AND kind = ? AND record_id = ?",
            (wallet_id, kind, rid),
        )
        if not rows:
            raise NotFoundError(Code.NOT_FOUND, f"no such {kind}", id=rid)
        return _json_record(key.open(str(rows[0][0]), context=f"{wallet_id}/{kind}/{rid}"))

    @staticmethod
    def _all(tx: Tx, key: DataKey, wallet_id: str, kind: str) -> list[tuple[str, JSONObject]]:
        rows = tx.execute(
            "SELECT record_id, body FROM {p}wallet_records WHERE wallet_id = ? AND kind = ? "
            "ORDER BY record_id",
            (wallet_id, kind),
        )
        return [
            (str(r[0]), _json_record(key.open(str(r[1]), context=f"{wallet_id}/{kind}/{r[0]}")))
            for r in rows
        ]

    def _event(self, tx: Tx, key: DataKey, wallet_id: str, kind: str, details: JSONObject) -> None:
        rows = tx.execute(
            "SELECT history_seq, history_head FROM {p}wallet_wallets WHERE wallet_id = ?",
            (wallet_id,),
        )
        seq, head = int(rows[0][0]) + 1, str(rows[0][1])
        event = HistoryEvent(seq=seq, kind=kind, at=self._now(), details=details)
        self._put(tx, key, wallet_id, "event", f"{seq:012d}", event.to_json())
        tx.execute(
            "UPDATE {p}wallet_wallets SET history_seq = ?, history_head = ? WHERE wallet_id = ?",
            (seq, chain_next(head, event), wallet_id),
        )

    def _record_event(self, wallet_id: str, kind: str, details: JSONObject) -> None:
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            self._event(tx, key, wallet_id, kind, details)

    def _holder_key(self, tx: Tx, key: DataKey, wallet_id: str) -> PrivateKey:
        return PrivateKey.from_jwk(self._get(tx, key, wallet_id, "key", "holder"))

    # -- creating, unlocking -----------------------------------------------------------------
    def create(self, pin: str, *, alg: KeyAlgorithm | str = KeyAlgorithm.ES256) -> CitizenWallet:
        """Create a wallet with a fresh holder key (ES256 by default) and return it.

        Raises:
            ConfigurationError: ``bad_argument`` for a PIN outside 4 to 64 characters.
        """
        return self._create(pin, PrivateKey.generate(alg), [], [], [])

    def _create(
        self,
        pin: str,
        holder: PrivateKey,
        credentials: Sequence[tuple[str, JSONObject]],
        consents: Sequence[tuple[str, JSONObject]],
        events: Sequence[JSONObject],
    ) -> CitizenWallet:
        wallet_id = new_id(12)
        key = DataKey.generate()
        wrapped = self._master.wrap(key.secret, context=wallet_id)
        verifier = key.seal(
            _json.canonical(hash_pin(pin, self._pin_cost)), context=f"{wallet_id}/pin"
        )
        with self._store.write() as tx:
            tx.execute(
                "INSERT INTO {p}wallet_wallets (wallet_id, created_at, wrapped_key, pin, failures,"
                " failed_at, history_seq, history_head) VALUES (?, ?, ?, ?, 0, 0, 0, ?)",
                (wallet_id, self._now(), wrapped, verifier, GENESIS_HEAD),
            )
            self._put(tx, key, wallet_id, "key", "holder", holder.private_jwk())
            for rid, obj in credentials:
                self._put(tx, key, wallet_id, "credential", rid, obj)
            for rid, obj in consents:
                self._put(tx, key, wallet_id, "consent", rid, obj)
            head, seq = GENESIS_HEAD, 0
            for obj in events:
                event = HistoryEvent.from_json(obj)
                seq = event.seq
                self._put(tx, key, wallet_id, "event", f"{seq:012d}", event.to_json())
                head = chain_next(head, event)
            tx.execute(
                "UPDATE {p}wallet_wallets SET history_seq = ?, history_head = ? "
                "WHERE wallet_id = ?",
                (seq, head, wallet_id),
            )
        return CitizenWallet(self, wallet_id)

    def _authorise(self, wallet_id: str, pin: str) -> None:
        """Check the PIN; count failures, impose delays, lock after five.

        scrypt (tens of milliseconds) runs outside any transaction: a write transaction is
        serialized across the whole store, so holding one for it would queue every wallet's
        PIN check behind every other. The check reads the PIN state, runs scrypt, then
        records the outcome in a short write transaction only if that state is unchanged;
        if another try (or a PIN change) came in between, this try is judged again against
        the new state, so concurrent tries are counted one by one, as sequential ones are.
        A right PIN with no failures to clear writes nothing.

        Raises:
            PolicyError: ``unlock_failed``.
            StateConflictError: ``wallet_locked`` (with ``retry_after`` while waiting).
            UnavailableError: ``unavailable`` when tries on this wallet keep racing.
        """
        for _ in range(_PIN_RACES):
            now = self._now()
            with self._store.read() as tx:
                key, row = self._data_key(tx, wallet_id)
            state = (str(row[1]), int(row[2]), int(row[3]))
            sealed, failures, failed_at = state
            _check_not_locked(failures, failed_at, now)
            right = check_pin(pin, _json_record(key.open(sealed, context=f"{wallet_id}/pin")))
            if right and not failures:
                return
            with self._store.write() as tx:
                _, current = self._data_key(tx, wallet_id)
                if (str(current[1]), int(current[2]), int(current[3])) != state:
                    continue  # another try came in between: judge this one again
                tx.execute(
                    "UPDATE {p}wallet_wallets SET failures = ?, failed_at = ? WHERE wallet_id = ?",
                    (0, failed_at, wallet_id) if right else (failures + 1, now, wallet_id),
                )
            if right:
                return
            raise PolicyError(Code.UNLOCK_FAILED, "the PIN does not unlock the wallet")
        raise UnavailableError(Code.UNAVAILABLE, "too many PIN tries at once on this wallet")

    def change_pin(self, wallet_id: str, pin: str, new_pin: str) -> None:
        """Replace the PIN (the old one authorises; a wrong one counts as a failure)."""
        self._authorise(wallet_id, pin)
        verifier = hash_pin(new_pin, self._pin_cost)
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            sealed = key.seal(_json.canonical(verifier), context=f"{wallet_id}/pin")
            tx.execute(
                "UPDATE {p}wallet_wallets SET pin = ?, failures = 0 WHERE wallet_id = ?",
                (sealed, wallet_id),
            )

    def holder_public_key(self, wallet_id: str) -> PublicKey:
        """Return the wallet's holder public key (issuers bind credentials to it)."""
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            return self._holder_key(tx, key, wallet_id).public_key

    def sign_key_proofs(
        self, wallet_id: str, pin: str, *, audience: str, nonces: Sequence[str | None]
    ) -> list[str]:
        """Sign OpenID4VCI ``jwt`` key proofs with the holder key, one per ``c_nonce``.

        The PIN authorises it (a wrong one counts as a failure). The proofs (OpenID4VCI 1.0
        Appendix F.1, :func:`seoul_vc.credentials.oid4vci.format_key_proof`) carry the
        holder's public JWK and ``aud`` = ``audience``, the Credential Issuer Identifier;
        the private key never leaves the wallet.
        """
        self._authorise(wallet_id, pin)
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            holder = self._holder_key(tx, key, wallet_id)
        now = self._now()
        return [format_key_proof(holder, audience=audience, nonce=n, iat=now) for n in nonces]

    # -- credentials ---------------------------------------------------------------------------
    def _verifier(self) -> Verifier:
        return Verifier(
            trust=self._trust,
            status=self._status,
            resolver=self._resolver,
            clock=self._clock,
            limits=self._limits,
        )

    def receive(self, wallet_id: str, credential: str) -> HeldCredential:
        """Verify a credential on receipt, then store it encrypted.

        Every check of the pipeline up to holder binding must pass — signature, issuer
        authority, schema, validity, status — and the credential must be bound (``cnf``)
        to this wallet's holder key. The KB-JWT is made at presentation time.

        Raises:
            SeoulVCError: the first failing check's error; ``bad_argument`` if the
                credential is not bound to this wallet's key or is not ``dc+sd-jwt``.
        """
        report = self._verifier().check(credential)
        error = report.error
        if error is not None and error.code is not Code.KB_JWT_MISSING:
            raise error
        if report.format != "dc+sd-jwt":
            raise ConfigurationError(Code.BAD_ARGUMENT, "this wallet holds dc+sd-jwt credentials")
        holder = self.holder_public_key(wallet_id)
        payload = _issuer_payload(credential, self._limits)
        bound = sd_jwt.holder_key_of(payload)
        if bound is None or bound != holder:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the credential is not bound to this wallet's holder key"
            )
        vct = str(payload.get("vct", ""))
        ctype = find_by_vct(vct)
        held = HeldCredential(
            id=new_id(9),
            type=ctype.name if ctype is not None else vct,
            vct=vct,
            issuer=str(payload.get("iss", "")),
            received_at=self._now(),
        )
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            record: dict[str, JSONValue] = dict(held.to_json())
            record["token"] = credential
            self._put(tx, key, wallet_id, "credential", held.id, record)
            self._event(
                tx,
                key,
                wallet_id,
                "credential_received",
                {"credential_id": held.id, "type": held.type, "issuer": held.issuer},
            )
        return held

    def credentials(self, wallet_id: str, pin: str) -> list[HeldCredential]:
        """List the wallet's credentials (metadata only)."""
        self._authorise(wallet_id, pin)
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            return [_held(obj) for _, obj in self._all(tx, key, wallet_id, "credential")]

    def show(self, wallet_id: str, pin: str, credential_id: str) -> JSONObject:
        """Return a credential's metadata and every claim it holds (for the citizen)."""
        self._authorise(wallet_id, pin)
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            record = self._get(tx, key, wallet_id, "credential", credential_id)
        token = str(record["token"])
        parts = sd_jwt.split(token, limits=self._limits)
        claims = sd_jwt.process(
            _issuer_payload(token, self._limits), parts.disclosures, limits=self._limits
        ).claims
        out = dict(_held(record).to_json())
        out["claims"] = {k: v for k, v in claims.items() if k not in {"cnf", "_sd_alg"}}
        return out

    def delete(self, wallet_id: str, pin: str, credential_id: str) -> None:
        """Delete a credential (its consents can no longer be viewed)."""
        self._authorise(wallet_id, pin)
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            self._get(tx, key, wallet_id, "credential", credential_id)
            tx.execute(
                "DELETE FROM {p}wallet_records WHERE wallet_id = ? AND kind = 'credential' "
                "AND record_id = ?",
                (wallet_id, credential_id),
            )
            self._event(tx, key, wallet_id, "credential_deleted", {"credential_id": credential_id})

    def refresh_status(self, wallet_id: str) -> list[str]:
        """Check every held credential's status; record newly revoked ones in the history.

        Returns:
            The ids of credentials found revoked or suspended now.
        """
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            records = self._all(tx, key, wallet_id, "credential")
        return [rid for rid, obj in records if self._status_refusal(wallet_id, rid, obj)]

    def _status_refusal(self, wallet_id: str, rid: str, record: JSONObject) -> Code | None:
        """Check one credential's status; on revocation mark it and record the event once."""
        if self._status is None:
            return None
        payload = _issuer_payload(str(record["token"]), self._limits)
        status = payload.get("status")
        if status is None:
            return None
        try:
            self._status.check(status, issuer=str(payload.get("iss", "")))
        except SeoulVCError as exc:
            if exc.code not in (Code.REVOKED, Code.SUSPENDED):
                raise
            with self._store.write() as tx:
                key, _ = self._data_key(tx, wallet_id)
                current = self._get(tx, key, wallet_id, "credential", rid)
                if current.get("revoked") is not True:
                    updated = dict(current)
                    updated["revoked"] = True
                    self._put(tx, key, wallet_id, "credential", rid, updated)
                    self._event(
                        tx,
                        key,
                        wallet_id,
                        "credential_revoked",
                        {
                            "credential_id": rid,
                            "type": str(current.get("type")),
                            "code": str(exc.code),
                        },
                    )
            return exc.code
        return None

    # -- requests and consent ----------------------------------------------------------------
    def open_request(self, token: str) -> PresentationRequest:
        """Verify a verifier's signed request and return what it asks (to show the citizen)."""
        return open_request(token, now=self._now(), resolver=self._resolver, limits=self._limits)

    def grant(
        self,
        wallet_id: str,
        pin: str,
        request: str,
        *,
        max_views: int,
        expires_at: datetime | int,
        claims: Mapping[str, Sequence[ClaimPath | str]] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> ConsentGrant:
        """Grant a consent to a verified request and record it on the ledger.

        Args:
            wallet_id: the wallet.
            pin: its PIN (authorises the grant).
            request: the verifier's signed request (checked again here).
            max_views: the view budget (1 to 10,000).
            expires_at: the end of the consent (a datetime or POSIX seconds).
            claims: per Credential Query id, the claims consented to (each one asked);
                default: every claim asked by every query.
            credentials: per Credential Query id, the credential id that answers it;
                default: the first held credential whose ``vct`` the query accepts.

        Raises:
            PolicyError: ``claim_not_requested`` for a query or claim the request did not
                ask; ``unlock_failed``.
            NotFoundError: ``not_found`` when no held credential answers a query.
            ConfigurationError: ``bad_argument`` for a bad budget or expiry.
        """
        self._authorise(wallet_id, pin)
        req = self.open_request(request)
        now = self._now()
        end = int(expires_at.timestamp()) if isinstance(expires_at, datetime) else expires_at
        if end <= now:
            raise ConfigurationError(Code.BAD_ARGUMENT, "expires_at must be in the future")
        if isinstance(max_views, bool) or not 1 <= max_views <= 10_000:
            raise ConfigurationError(Code.BAD_ARGUMENT, "max_views is 1 to 10,000")
        chosen = claims if claims is not None else {q.id: list(q.claims) for q in req.credentials}
        consent_id = new_consent_id()
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            held = self._all(tx, key, wallet_id, "credential")
        items: list[ConsentItem] = []
        for query_id, paths in chosen.items():
            query = req.query(query_id)
            if query is None:
                raise PolicyError(Code.CLAIM_NOT_REQUESTED, "no such Credential Query asked")
            wanted = [parse_claim_path(p) if isinstance(p, str) else tuple(p) for p in paths]
            if not wanted or any(p not in query.claims for p in wanted):
                raise PolicyError(Code.CLAIM_NOT_REQUESTED, "a consented claim was not asked")
            match = _match_credential(held, query.vct_values, (credentials or {}).get(query_id))
            items.append(
                ConsentItem(
                    query_id=query_id,
                    credential_id=match[0],
                    ref=credential_ref(consent_id, str(match[1]["token"])),
                    claims=tuple(dict.fromkeys(wanted)),
                )
            )
        pseudonym = PrivateKey.generate(KeyAlgorithm.ES256)
        draft = ConsentGrant(
            consent_id=consent_id,
            verifier=req.verifier,
            client_id=req.client_id,
            purpose=req.purpose,
            holder=signer_did(pseudonym.public_key),
            items=tuple(items),
            max_views=max_views,
            expires_at=end,
            granted_index=-1,
        )
        receipt = self.ledger.append(sign_entry(GRANT, draft.ledger_body(), pseudonym, time=now))
        grant = dataclasses.replace(draft, granted_index=receipt.index)
        with self._store.write() as tx:
            key, _ = self._data_key(tx, wallet_id)
            record = dict(grant.to_json())
            record["pseudonym"] = pseudonym.private_jwk()
            self._put(tx, key, wallet_id, "consent", consent_id, record)
            self._event(
                tx, key, wallet_id, "consent_granted", _consent_details(grant, receipt.index)
            )
        return grant

    def consents(self, wallet_id: str, pin: str) -> list[JSONObject]:
        """List the wallet's consents with their live ledger state (views used, withdrawn)."""
        self._authorise(wallet_id, pin)
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            records = self._all(tx, key, wallet_id, "consent")
        out: list[JSONObject] = []
        for consent_id, record in records:
            grant = ConsentGrant.from_json(record)
            state = self.ledger.state("consent", f"c/{consent_id}")
            info = dict(grant.to_json())
            info["views"] = state.get("views", 0) if isinstance(state, dict) else 0
            info["withdrawn"] = isinstance(state, dict) and state.get("withdrawn") is not None
            out.append(info)
        return out

    def withdraw(self, wallet_id: str, pin: str, consent_id: str) -> int:
        """Withdraw a consent on the ledger; return the ``consent.withdraw`` entry's index."""
        self._authorise(wallet_id, pin)
        grant, pseudonym = self._consent(wallet_id, consent_id)
        receipt = self.ledger.append(
            sign_entry(WITHDRAW, {"consent": consent_id}, pseudonym, time=self._now())
        )
        details = _consent_details(grant, receipt.index)
        self._record_event(wallet_id, "consent_withdrawn", details)
        return receipt.index

    def _consent(self, wallet_id: str, consent_id: str) -> tuple[ConsentGrant, PrivateKey]:
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            record = self._get(tx, key, wallet_id, "consent", consent_id)
        pseudonym = record["pseudonym"]
        assert isinstance(pseudonym, dict)  # noqa: S101 - written by grant()
        return ConsentGrant.from_json(record), PrivateKey.from_jwk(pseudonym)

    # -- views ---------------------------------------------------------------------------------
    def view(self, wallet_id: str, consent_id: str, request: str) -> ConsentedPresentation:
        """Serve one view of a consent to the verifier that signed ``request``.

        Appends the view first; only after the ledger accepted it are the presentations
        built (see the module docstring). No PIN: the consent is the authorisation.

        Nothing is resolved for a request that cannot be the consent's: the consent is
        loaded first, and a request whose ``client_id`` (read unverified) names another
        verifier is refused before its DID could be resolved. A view needs no PIN and
        consent ids are on the public ledger, so otherwise anyone could make the service
        fetch the did:web document of any host. Another verifier's did:key or did:jwk
        request is verified first (that needs no I/O), so its refusal is recorded.

        Raises:
            StateConflictError: ``unknown_consent`` (before the request is read);
                ``consent_exhausted``, ``consent_expired``, ``consent_withdrawn``,
                ``nonce_replayed``.
            PolicyError: ``wrong_verifier`` (before any status check); ``revoked``/
                ``suspended`` for a held credential under the consent;
                ``excess_disclosure``.
            VerificationError: the request's signature and lifetime checks.
        """
        try:
            grant, pseudonym = self._consent(wallet_id, consent_id)
        except NotFoundError as exc:
            raise StateConflictError(Code.UNKNOWN_CONSENT, "no such consent") from exc
        claimed = claimed_verifier(request, limits=self._limits)
        if claimed is not None and claimed != grant.verifier and not _self_certifying(claimed):
            raise PolicyError(Code.WRONG_VERIFIER, "the consent names another verifier")
        req = self.open_request(request)
        hashed = nonce_hash(req.nonce)
        # Verified now, so recorded. The ledger checks the verifier of a view again; this
        # refuses a stranger before the credentials' status is looked up on its behalf.
        if req.verifier != grant.verifier:
            self._refuse(wallet_id, grant, pseudonym, req, hashed, Code.WRONG_VERIFIER)
            raise PolicyError(Code.WRONG_VERIFIER, "the consent names another verifier")
        # The status of what would be shown, before anything is spent.
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            records = {
                i.credential_id: self._get(tx, key, wallet_id, "credential", i.credential_id)
                for i in grant.items
            }
            holder = self._holder_key(tx, key, wallet_id)
        for item in grant.items:
            code = self._status_refusal(wallet_id, item.credential_id, records[item.credential_id])
            if code is not None:
                self._refuse(wallet_id, grant, pseudonym, req, hashed, code)
                raise PolicyError(code, "a credential under this consent is no longer valid")
        index, k = self._append_view(wallet_id, grant, pseudonym, req, hashed)
        # Only now, with the view on the ledger, is anything disclosed.
        now = self._now()
        vp_token = {
            item.query_id: [
                build_presentation(
                    str(records[item.credential_id]["token"]),
                    holder,
                    item.claims,
                    aud=req.client_id,
                    nonce=req.nonce,
                    iat=now,
                )
            ]
            for item in grant.items
        }
        note = self._checkpoint_covering(index)
        receipt = ViewReceipt(
            view=make_bundle(self.ledger, index, note),
            grant=make_bundle(self.ledger, grant.granted_index, note),
        )
        details = _consent_details(grant, index)
        details.update({"view": k, "nonce_hash": hashed})
        self._record_event(wallet_id, "view", details)
        return ConsentedPresentation(
            vp_token=vp_token, receipt=receipt, view=k, max_views=grant.max_views
        )

    def _append_view(
        self,
        wallet_id: str,
        grant: ConsentGrant,
        pseudonym: PrivateKey,
        req: PresentationRequest,
        hashed: str,
    ) -> tuple[int, int]:
        for _ in range(_MAX_VIEW_RETRIES):
            state = self.ledger.state("consent", f"c/{grant.consent_id}")
            views = state.get("views") if isinstance(state, dict) else None
            k = (views if isinstance(views, int) else 0) + 1
            body: JSONObject = {
                "consent": grant.consent_id,
                "view": k,
                "verifier": req.verifier,
                "nonce_hash": hashed,
            }
            try:
                receipt = self.ledger.append(sign_entry(VIEW, body, pseudonym, time=self._now()))
            except SeoulVCError as exc:
                if exc.code is Code.VIEW_OUT_OF_ORDER:
                    continue  # a concurrent view took number k; read the count again
                if exc.code in REFUSAL_REASONS:
                    self._refuse(wallet_id, grant, pseudonym, req, hashed, exc.code)
                raise
            return receipt.index, k
        raise UnavailableError(Code.UNAVAILABLE, "too many concurrent views; retry")

    def _refuse(
        self,
        wallet_id: str,
        grant: ConsentGrant,
        pseudonym: PrivateKey,
        req: PresentationRequest,
        hashed: str,
        code: Code,
    ) -> None:
        body: JSONObject = {
            "consent": grant.consent_id,
            "verifier": req.verifier,
            "nonce_hash": hashed,
            "reason": str(code),
        }
        receipt = self.ledger.append(sign_entry(REFUSAL, body, pseudonym, time=self._now()))
        details = _consent_details(grant, receipt.index)
        details.update({"verifier": req.verifier, "reason": str(code), "nonce_hash": hashed})
        self._record_event(wallet_id, "refusal", details)

    def _checkpoint_covering(self, index: int) -> str:
        latest = self.ledger.latest_checkpoint()
        if latest is not None and self._witness is None:
            text = latest[: latest.find("\n\n") + 1]
            if parse_checkpoint(text).size > index:
                return latest
        # Not stored as the ledger's latest: witnesses cosign the published checkpoint, which
        # a stream of views must not keep replacing (the receipt carries its own note).
        note = self.ledger.checkpoint(self._log_signer, store=False)
        return self._witness(note) if self._witness is not None else note

    # -- history, backup -------------------------------------------------------------------
    def history(self, wallet_id: str, pin: str) -> list[HistoryEvent]:
        """Return the wallet's history, checked against its chain and the ledger.

        Raises:
            StorageError: ``ledger_tampered`` if the chain or a ledger entry disagrees;
                ``vault_record_corrupt`` for an altered event.
        """
        self._authorise(wallet_id, pin)
        with self._store.read() as tx:
            key, row = self._data_key(tx, wallet_id)
            records = self._all(tx, key, wallet_id, "event")
        events = [HistoryEvent.from_json(obj) for _, obj in records]
        head = GENESIS_HEAD
        for expected, event in enumerate(events, start=1):
            if event.seq != expected:
                raise StorageError(Code.LEDGER_TAMPERED, "the history is missing an event")
            head = chain_next(head, event)
            self._check_on_ledger(event)
        if head != str(row[5]) or len(events) != int(row[4]):
            raise StorageError(Code.LEDGER_TAMPERED, "the history chain does not match its head")
        return events

    def _check_on_ledger(self, event: HistoryEvent) -> None:
        expected_type = LEDGER_TYPE_OF.get(event.kind)
        if expected_type is None:
            return
        index = event.details.get("ledger_index")
        if not isinstance(index, int):
            raise StorageError(Code.LEDGER_TAMPERED, "a consent event names no ledger entry")
        entry = self.ledger.entry(index)
        body = entry.body
        if (
            entry.type != expected_type
            or body.get("consent") != event.details.get("consent")
            or entry.signer != event.details.get("holder")
            or (event.kind == "view" and body.get("view") != event.details.get("view"))
            or (event.kind == "refusal" and body.get("reason") != event.details.get("reason"))
        ):
            raise StorageError(
                Code.LEDGER_TAMPERED, "a history event disagrees with the ledger", index=index
            )

    def export(self, wallet_id: str, pin: str, passphrase: str) -> str:
        """Return an encrypted backup of the wallet (:func:`~seoul_vc.wallet.vault.seal_backup`)."""
        self._authorise(wallet_id, pin)
        with self._store.read() as tx:
            key, _ = self._data_key(tx, wallet_id)
            backup: JSONObject = {
                "version": _BACKUP_VERSION,
                "holder": self._get(tx, key, wallet_id, "key", "holder"),
                "credentials": [
                    {"id": rid, "record": obj}
                    for rid, obj in self._all(tx, key, wallet_id, "credential")
                ],
                "consents": [
                    {"id": rid, "record": obj}
                    for rid, obj in self._all(tx, key, wallet_id, "consent")
                ],
                "events": [obj for _, obj in self._all(tx, key, wallet_id, "event")],
            }
        return seal_backup(_json.canonical(backup), passphrase)

    def restore(self, backup: str, passphrase: str, pin: str) -> CitizenWallet:
        """Restore a backup as a new wallet with a new PIN.

        The PIN is checked first, before any scrypt. The backup's scrypt cost is its own,
        bounded by :func:`~seoul_vc.wallet.vault.open_backup` before anything is derived.
        Its contents are only as trustworthy as the passphrase, which whoever restores
        chooses: each record must have the shape :meth:`export` writes before anything is
        stored. Cost: one scrypt of the backup's cost (128 MiB, about half a second, at the
        default), one PIN verifier, one store transaction.

        Raises:
            ConfigurationError: ``bad_argument`` for a PIN outside 4 to 64 printable
                characters.
            MalformedInputError: ``backup_too_costly`` for a backup naming a scrypt cost
                past the bounds (nothing is derived).
            PolicyError: ``unlock_failed`` for a wrong passphrase or a damaged backup.
        """
        check_pin_text(pin)
        plaintext = open_backup(backup, passphrase)
        try:
            holder, credentials, consents, events = _backup_contents(plaintext)
        except SeoulVCError as exc:
            raise PolicyError(Code.UNLOCK_FAILED, "the backup does not open") from exc
        return self._create(pin, holder, credentials, consents, events)


# -- backup contents ---------------------------------------------------------------------------

_Records = list[tuple[str, JSONObject]]


def _damaged(what: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, f"the backup's {what} is not as exported")


def _backup_contents(
    plaintext: bytes,
) -> tuple[PrivateKey, _Records, _Records, list[JSONObject]]:
    """The holder key, credentials, consents and events of a decrypted backup, checked.

    Raises:
        MalformedInputError: the first record that does not have the shape of
            :meth:`WalletService.export`.
    """
    obj = _json.loads_object(plaintext, max_bytes=MAX_BACKUP_BYTES, max_depth=16, what="backup")
    if set(obj) != {"version", "holder", "credentials", "consents", "events"}:
        raise _damaged("top level")
    holder, events = obj["holder"], obj["events"]
    if obj["version"] != _BACKUP_VERSION or not isinstance(holder, dict):
        raise _damaged("version or holder key")
    credentials = _backup_records(obj["credentials"], "credential", _check_credential)
    consents = _backup_records(obj["consents"], "consent", _check_consent)
    if not isinstance(events, list):
        raise _damaged("history")
    for seq, event in enumerate(events, start=1):
        if not (
            isinstance(event, dict)
            and set(event) == {"seq", "kind", "at", "details"}
            and event["seq"] == seq
            and _is_int(event["at"])
            and event["kind"] in EVENT_KINDS
            and isinstance(event["details"], dict)
        ):
            raise _damaged("history")
    checked = [e for e in events if isinstance(e, dict)]
    return PrivateKey.from_jwk(holder), credentials, consents, checked


def _backup_records(
    items: JSONValue, kind: str, check: Callable[[str, JSONObject], None]
) -> _Records:
    if not isinstance(items, list):
        raise _damaged(f"{kind} list")
    out: _Records = []
    for item in items:
        if not (isinstance(item, dict) and set(item) == {"id", "record"}):
            raise _damaged(kind)
        rid, record = item["id"], item["record"]
        if not (isinstance(rid, str) and _RECORD_ID.fullmatch(rid) and isinstance(record, dict)):
            raise _damaged(kind)
        check(rid, record)
        out.append((rid, record))
    if len({rid for rid, _ in out}) != len(out):
        raise _damaged(f"{kind} list")
    return out


def _is_int(value: JSONValue) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_credential(rid: str, record: JSONObject) -> None:
    """A credential record as :meth:`WalletService.receive` writes it."""
    if not (
        record.get("id") == rid
        and all(isinstance(record.get(k), str) for k in ("type", "vct", "issuer", "token"))
        and _is_int(record.get("received_at"))
        and isinstance(record.get("revoked", False), bool)
    ):
        raise _damaged("credential")


def _check_consent(rid: str, record: JSONObject) -> None:
    """A consent record as :meth:`WalletService.grant` writes it (grant and pseudonym)."""
    texts = ("consent_id", "verifier", "client_id", "purpose", "holder")
    items, pseudonym = record.get("items"), record.get("pseudonym")
    if not (
        record.get("consent_id") == rid
        and all(isinstance(record.get(k), str) for k in texts)
        and all(_is_int(record.get(k)) for k in ("max_views", "expires_at", "granted_index"))
        and isinstance(pseudonym, dict)
        and isinstance(items, list)
        and all(
            isinstance(i, dict)
            and all(isinstance(i.get(k), str) for k in ("query_id", "credential_id", "ref"))
            and isinstance(i.get("claims"), list)
            for i in items
        )
    ):
        raise _damaged("consent")
    PrivateKey.from_jwk(pseudonym)
    ConsentGrant.from_json(record)  # raises for a claim path that does not parse


def _consent_details(grant: ConsentGrant, index: int) -> dict[str, JSONValue]:
    return {
        "consent": grant.consent_id,
        "holder": grant.holder,
        "verifier": grant.verifier,
        "purpose": grant.purpose,
        "claims": {i.query_id: [format_claim_path(p) for p in i.claims] for i in grant.items},
        "max_views": grant.max_views,
        "expires_at": grant.expires_at,
        "ledger_index": index,
    }


def _check_not_locked(failures: int, failed_at: int, now: int) -> None:
    """Refuse a PIN try on a locked wallet, or before the wait after the last failure.

    Raises:
        StateConflictError: ``wallet_locked`` (with ``retry_after`` while waiting).
    """
    if failures >= MAX_PIN_FAILURES:
        raise StateConflictError(
            Code.WALLET_LOCKED, "the wallet is locked; restore it from a backup"
        )
    if failures and now < failed_at + PIN_DELAYS[failures - 1]:
        raise StateConflictError(
            Code.WALLET_LOCKED,
            "wait before the next PIN try",
            retry_after=failed_at + PIN_DELAYS[failures - 1] - now,
        )


def _self_certifying(did: str) -> bool:
    """Whether ``did`` is a valid did:key or did:jwk: its requests verify without any I/O."""
    try:
        return self_certifying_key(did) is not None
    except SeoulVCError:
        return False  # unreadable: held to the consent's verifier like any resolved DID


def _held(obj: JSONObject) -> HeldCredential:
    received = obj.get("received_at")
    return HeldCredential(
        id=str(obj["id"]),
        type=str(obj["type"]),
        vct=str(obj["vct"]),
        issuer=str(obj["issuer"]),
        received_at=received if isinstance(received, int) else 0,
        revoked=obj.get("revoked") is True,
    )


def _issuer_payload(token: str, limits: Limits) -> JSONObject:
    parts = sd_jwt.split(token, limits=limits)
    return _json.loads_object(
        parse_compact(parts.issuer_jwt, limits=limits).payload,
        max_bytes=limits.max_token_bytes,
        max_depth=limits.max_json_depth,
        what="credential payload",
    )


def _match_credential(
    held: Sequence[tuple[str, JSONObject]], vcts: Sequence[str], wanted: str | None
) -> tuple[str, JSONObject]:
    for rid, obj in held:
        if (wanted is None or rid == wanted) and obj.get("vct") in vcts:
            if obj.get("revoked") is True:
                raise PolicyError(Code.REVOKED, "that credential was revoked")
            return rid, obj
    raise NotFoundError(Code.NOT_FOUND, "no held credential answers the query")


class CitizenWallet:
    """One citizen's wallet in a :class:`WalletService` (no state of its own)."""

    def __init__(self, service: WalletService, wallet_id: str) -> None:
        self.service = service
        self.id = wallet_id

    @property
    def holder_did(self) -> str:
        """The holder key's DID (did:jwk for ES256)."""
        return did_of(self.service.holder_public_key(self.id))

    @property
    def holder_public_key(self) -> PublicKey:
        """The holder public key, for issuers to bind credentials to."""
        return self.service.holder_public_key(self.id)

    def receive(self, credential: str) -> HeldCredential:
        """See :meth:`WalletService.receive`."""
        return self.service.receive(self.id, credential)

    def credentials(self, pin: str) -> list[HeldCredential]:
        """See :meth:`WalletService.credentials`."""
        return self.service.credentials(self.id, pin)

    def show(self, pin: str, credential_id: str) -> JSONObject:
        """See :meth:`WalletService.show`."""
        return self.service.show(self.id, pin, credential_id)

    def delete(self, pin: str, credential_id: str) -> None:
        """See :meth:`WalletService.delete`."""
        self.service.delete(self.id, pin, credential_id)

    def grant(self, pin: str, request: str, **options: Any) -> ConsentGrant:
        """See :meth:`WalletService.grant`."""
        return self.service.grant(self.id, pin, request, **options)

    def consents(self, pin: str) -> list[JSONObject]:
        """See :meth:`WalletService.consents`."""
        return self.service.consents(self.id, pin)

    def withdraw(self, pin: str, consent_id: str) -> int:
        """See :meth:`WalletService.withdraw`."""
        return self.service.withdraw(self.id, pin, consent_id)

    def view(self, consent_id: str, request: str) -> ConsentedPresentation:
        """See :meth:`WalletService.view`."""
        return self.service.view(self.id, consent_id, request)

    def history(self, pin: str) -> list[HistoryEvent]:
        """See :meth:`WalletService.history`."""
        return self.service.history(self.id, pin)

    def change_pin(self, pin: str, new_pin: str) -> None:
        """See :meth:`WalletService.change_pin`."""
        self.service.change_pin(self.id, pin, new_pin)

    def export(self, pin: str, passphrase: str) -> str:
        """See :meth:`WalletService.export`."""
        return self.service.export(self.id, pin, passphrase)
