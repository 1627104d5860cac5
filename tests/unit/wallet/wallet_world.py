"""A small city for wallet tests: a ledger, an issuing ministry, an agency, a wallet service.

``World`` wires one ledger (SQLite or PostgreSQL), a Ministry of the Interior issuer trusted
for ResidencyCredential and IncomeCredential, a housing agency (the verifier, with its own
DID key and nonce store), a log note signer and a :class:`WalletService` over a store next to
the ledger. ``world.citizen()`` creates a wallet holding a residency credential;
``world.request(...)`` signs the agency's request; ``world.check(...)`` is the agency's check
of a consented presentation with its receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from seoul_vc import FixedClock, Issuer, Ledger, PrivateKey, TrustRegistry, Verifier
from seoul_vc.credentials.issuer import did_of
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.sd_jwt import ClaimPath
from seoul_vc.credentials.types import credential_type
from seoul_vc.credentials.verify import StatusSource
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.wallet import (
    CitizenWallet,
    ConsentedPresentation,
    ConsentedView,
    CredentialQuery,
    LocalMasterKey,
    ScryptParams,
    WalletService,
    check_consented_presentation,
    create_request,
)
from seoul_vc.wallet.request import CLIENT_ID_PREFIX

ORIGIN = "ledger.seoul.example/wallet-test"
PIN = "482913"
RESIDENCY = credential_type("ResidencyCredential")
#: What the housing agency asks for: more than the citizen will consent to.
ASKED: tuple[ClaimPath, ...] = (
    ("address", "district"),
    ("ageOver19",),
    ("name",),
    ("birthDate",),
)
FAST_PIN = ScryptParams(n=2**10, r=8, p=1)


class World:
    """The actors of one test (see the module docstring)."""

    def __init__(
        self,
        ledger_url: str,
        wallet_url: str,
        clock: FixedClock,
        *,
        status: StatusSource | None = None,
        master_key: LocalMasterKey | None = None,
        operator: PrivateKey | None = None,
        log_key: PrivateKey | None = None,
        genesis: bool = True,
    ) -> None:
        self.clock = clock
        self.ledger = Ledger.open(ledger_url, clock=clock)
        self.log_key = log_key or PrivateKey.generate()
        self.log = NoteSigner(ORIGIN, self.log_key)
        if genesis:
            self.ledger.genesis(origin=ORIGIN, operator=operator or PrivateKey.generate())
        self.ministry = Issuer(PrivateKey.generate(), clock=clock)
        self.trust = TrustRegistry.from_json(
            {
                "issuers": [
                    {"id": self.ministry.did, "types": ["ResidencyCredential", "IncomeCredential"]}
                ]
            }
        )
        self.agency_key = PrivateKey.generate()
        self.agency = Verifier(trust=self.trust, status=status, clock=clock)
        self.master_key = master_key or LocalMasterKey.generate()
        self.status = status
        self.wallet_url = wallet_url
        self.service = WalletService(
            wallet_url,
            ledger=self.ledger,
            master_key=self.master_key,
            trust=self.trust,
            log_signer=self.log,
            status=status,
            clock=clock,
            pin_cost=FAST_PIN,
        )

    @property
    def agency_did(self) -> str:
        """The agency's did:key."""
        return did_of(self.agency_key.public_key)

    def close(self) -> None:
        """Close the service and the ledger."""
        self.service.close()
        self.ledger.close()

    def citizen(self, *, status: dict[str, object] | None = None) -> tuple[CitizenWallet, str]:
        """Create a wallet holding a residency credential; return it and the credential id."""
        wallet = self.service.create(PIN)
        token = self.ministry.issue(
            "ResidencyCredential",
            example_subject("residency"),
            holder=wallet.holder_public_key,
            status=status,  # type: ignore[arg-type]
        )
        held = wallet.receive(token)
        return wallet, held.id

    def request(
        self,
        claims: Sequence[ClaimPath] = ASKED,
        *,
        key: PrivateKey | None = None,
        nonce: str | None = None,
    ) -> tuple[str, str]:
        """Sign the agency's (or with ``key`` another verifier's) request; return it, its nonce."""
        chosen = nonce or self.agency.new_nonce()
        query = CredentialQuery(id="residency", vct_values=(RESIDENCY.vct,), claims=tuple(claims))
        token = create_request(
            key or self.agency_key,
            nonce=chosen,
            purpose="Youth housing: residency in Seoul",
            credentials=(query,),
            iat=int(self.clock.now().timestamp()),
        )
        return token, chosen

    def grant(
        self,
        wallet: CitizenWallet,
        claims: Sequence[str] = ("address.district", "ageOver19"),
        *,
        max_views: int = 3,
        lifetime: timedelta = timedelta(days=30),
    ) -> str:
        """Grant the agency a consent over ``claims``; return the consent id."""
        token, _ = self.request()
        grant = wallet.grant(
            PIN,
            token,
            claims={"residency": list(claims)},
            max_views=max_views,
            expires_at=self.clock.now() + lifetime,
        )
        return grant.consent_id

    def check(self, shown: ConsentedPresentation, nonce: str) -> ConsentedView:
        """The agency's check of a consented presentation and its receipt."""
        return check_consented_presentation(
            shown.vp_token,
            shown.receipt,
            verifier=self.agency,
            verifier_did=self.agency_did,
            client_id=CLIENT_ID_PREFIX + self.agency_did,
            nonce=nonce,
            origin=ORIGIN,
            log_key=self.log.verifier,
            witnesses=WitnessPolicy.unwitnessed(),
        )
