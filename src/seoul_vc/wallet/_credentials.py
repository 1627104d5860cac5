"""The credentials a wallet holds: receipt, listing, showing, deletion, status; the holder key.

Part of :mod:`seoul_vc.wallet.wallet`: :class:`_WalletCredentials` verifies a credential
on receipt (the whole pipeline up to holder binding, and ``cnf`` bound to this wallet's
holder key), keeps it sealed as a :class:`HeldCredential` record, shows it to the citizen,
deletes it, and checks its status (marking it revoked and recording that once). The
holder key signs OpenID4VCI key proofs (Appendix F.1) and never leaves the wallet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials import Verifier, sd_jwt
from seoul_vc.credentials.oid4vci import format_key_proof
from seoul_vc.credentials.types import find_by_vct
from seoul_vc.errors import Code, ConfigurationError, SeoulVCError
from seoul_vc.jose import parse_compact
from seoul_vc.keys import PublicKey
from seoul_vc.limits import Limits
from seoul_vc.wallet._pin import _WalletPIN
from seoul_vc.wallet.consent import new_id

__all__ = ["HeldCredential"]


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


class _WalletCredentials(_WalletPIN):
    """The held credentials and holder key of a :class:`~seoul_vc.wallet.WalletService`."""

    # -- holder key --------------------------------------------------------------------------
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
