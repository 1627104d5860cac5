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

This module holds what concerns a wallet as a whole (creating it, its history, its
backup and restore) and :class:`CitizenWallet`; the service's other rooms are private
bases of :class:`WalletService`, each built on the one before:
:mod:`~seoul_vc.wallet._store` (the store, data keys and sealed records),
:mod:`~seoul_vc.wallet._pin` (PIN checks, delays and lock),
:mod:`~seoul_vc.wallet._credentials` (held credentials, status, the holder key),
:mod:`~seoul_vc.wallet._consents` (requests, consents on the ledger) and
:mod:`~seoul_vc.wallet._views` (the view protocol, its ledger appends and refusals);
:mod:`~seoul_vc.wallet._backup` checks a restored backup's records.

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

from collections.abc import Sequence
from typing import Any

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc.credentials.issuer import did_of
from seoul_vc.errors import Code, PolicyError, SeoulVCError, StorageError
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey
from seoul_vc.wallet._backup import _BACKUP_VERSION, _backup_contents
from seoul_vc.wallet._credentials import HeldCredential
from seoul_vc.wallet._pin import MAX_PIN_FAILURES, PIN_DELAYS, check_not_locked
from seoul_vc.wallet._views import (
    MAX_RECORDED_REFUSALS,
    MAX_RECORDED_STRANGER_REFUSALS,
    ConsentedPresentation,
    _WalletViews,
)
from seoul_vc.wallet.consent import ConsentGrant, new_id
from seoul_vc.wallet.history import GENESIS_HEAD, LEDGER_TYPE_OF, HistoryEvent, chain_next
from seoul_vc.wallet.vault import DataKey, check_pin_text, hash_pin, open_backup, seal_backup

__all__ = [
    "MAX_PIN_FAILURES",
    "MAX_RECORDED_REFUSALS",
    "MAX_RECORDED_STRANGER_REFUSALS",
    "PIN_DELAYS",
    "CitizenWallet",
    "ConsentedPresentation",
    "HeldCredential",
    "WalletService",
    "check_not_locked",
]


class WalletService(_WalletViews):
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

    def wallet(self, wallet_id: str) -> CitizenWallet:
        """Return the facade of one wallet (no I/O)."""
        return CitizenWallet(self, wallet_id)

    # -- creating ----------------------------------------------------------------------------
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
