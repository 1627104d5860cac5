"""``seoul-vc demo``: the programme end to end on the embedded defaults, narrated.

Everything runs in a temporary folder on SQLite. Each act does real work through the public
API, checks its outcome and returns a line for the summary table plus details for the
``--json`` record. An act whose outcome is not the expected one raises a
:class:`~seoul_vc.SeoulVCError`, so the command exits non-zero with its code.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from seoul_vc import (
    Code,
    InternalError,
    Issuer,
    Ledger,
    PrivateKey,
    SeoulVCError,
    TrustRegistry,
    Verifier,
    present,
    resolve_verification_method,
    verify_bundle,
)
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.ledger.bundle import make_bundle
from seoul_vc.ledger.checkpoint import CosignerKey, WitnessPolicy
from seoul_vc.ledger.entry import signer_did
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.witness import Witness
from seoul_vc.mileage import MileageAccounts
from seoul_vc.status import DirectorySource, StatusAllocation, StatusChecker, StatusRegistry
from seoul_vc.voting import Registrar, cast, close, open_poll, tally
from seoul_vc.wallet import (
    CitizenWallet,
    ConsentedPresentation,
    ConsentedView,
    CredentialQuery,
    LocalMasterKey,
    WalletService,
    check_consented_presentation,
    create_request,
)
from seoul_vc.wallet.request import CLIENT_ID_PREFIX
from seoul_vc_cli.output import JsonOption, json_mode, set_json_mode

ORIGIN = "ledger.seoul.example/demo"
STATUS_BASE = "https://status.seoul.example/lists"
PIN = "482913"
ISSUERS = {
    "Ministry of the Interior": ("ResidencyCredential", "residency"),
    "National Health Insurance Service": ("IncomeCredential", "income"),
    "Seoul Childcare Teacher Training Institute": ("CertificateCredential", "certificate"),
}
WITNESSES = ("mois.witness.example", "nhis.witness.example")
HOUSING_PURPOSE = "Youth housing: residency in Seoul and income bracket"
CERTIFICATE_PURPOSE = "Daycare centre hiring: childcare teacher course completed"
CERTIFICATE_QUERIES = (
    CredentialQuery(
        id="certificate",
        vct_values=(credential_type("CertificateCredential").vct,),
        claims=(("kind",), ("title",), ("certificateNumber",)),
    ),
)
#: The youth-housing office asks for three claims over two credentials.
HOUSING_QUERIES = (
    CredentialQuery(
        id="residency",
        vct_values=(credential_type("ResidencyCredential").vct,),
        claims=(("address", "district"), ("ageOver19",)),
    ),
    CredentialQuery(
        id="income",
        vct_values=(credential_type("IncomeCredential").vct,),
        claims=(("incomeBracketPercent",),),
    ),
)


class Story:
    """What the demo has set up so far, shared by the acts (set by :func:`act_setup`)."""

    folder: Path
    ledger: Ledger
    operator: PrivateKey
    log: NoteSigner
    issuers: dict[str, Issuer]
    trust: TrustRegistry
    status: StatusRegistry
    checker: StatusChecker
    witnesses: list[Witness]
    cosigners: list[CosignerKey]
    service: WalletService
    wallet: CitizenWallet
    credentials: dict[str, str]
    certificate_slot: StatusAllocation
    agency_key: PrivateKey
    agency: Verifier
    consent: str
    proposer: PrivateKey
    registrar_key: PrivateKey
    mileage_office: PrivateKey
    eco_authority: PrivateKey
    ballot_index: int

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.record: list[dict[str, Any]] = []
        self.closers: list[Callable[[], None]] = []

    def now(self) -> int:
        """The current POSIX second."""
        return int(time.time())


def _say(text: str) -> None:
    if not json_mode():
        typer.echo(text)


@contextmanager
def _progress(label: str) -> Iterator[None]:
    """Show ``label ...`` and, when the step is done, how long it took."""
    if not json_mode():
        typer.echo(f"  {label} ...", nl=False)
    t0 = time.perf_counter()
    yield
    if not json_mode():
        typer.echo(f" done ({time.perf_counter() - t0:.2f} s)")


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise InternalError(Code.INTERNAL, f"demo expectation failed: {what}")


def _refused(action: Callable[[], object], expected: Code) -> str:
    try:
        action()
    except SeoulVCError as exc:
        _expect(exc.code is expected, f"expected {expected}, got {exc.code}")
        return str(exc.code)
    raise InternalError(Code.INTERNAL, f"demo expectation failed: not refused ({expected})")


Outcome = tuple[str, dict[str, Any]]


def act_setup(story: Story) -> Outcome:
    """Agencies get keys and did:key identifiers; the city ledger, status lists, witnesses."""
    story.issuers = {}
    for name, (type_name, _) in ISSUERS.items():
        issuer = Issuer(PrivateKey.generate("EdDSA"))
        vm = resolve_verification_method(issuer.kid)
        _expect(vm.public_key == issuer.key.public_key, "the DID resolves to the agency key")
        story.issuers[name] = issuer
        _say(f"  {name:<43} {issuer.did[:30]}...  issues {type_name}")
    story.trust = TrustRegistry.from_json(
        {
            "issuers": [
                {"id": story.issuers[name].did, "types": [type_name]}
                for name, (type_name, _) in ISSUERS.items()
            ]
        }
    )
    story.operator = PrivateKey.generate("EdDSA")
    story.proposer, story.registrar_key = PrivateKey.generate(), PrivateKey.generate()
    story.mileage_office, story.eco_authority = PrivateKey.generate(), PrivateKey.generate()
    story.ledger = Ledger.open(f"sqlite:{story.folder / 'ledger.db'}")
    story.closers.append(story.ledger.close)
    story.ledger.genesis(
        origin=ORIGIN,
        operator=story.operator,
        grants={
            signer_did(story.proposer.public_key): ["voting.open"],
            signer_did(story.registrar_key.public_key): ["voting.register"],
            signer_did(story.mileage_office.public_key): [
                "mileage.programme",
                "mileage.merchant",
                "mileage.settle",
            ],
            signer_did(story.eco_authority.public_key): ["mileage.accrue"],
        },
    )
    story.log = NoteSigner(ORIGIN, story.operator)
    _say(f"  city ledger {ORIGIN} opened (SQLite), genesis with 4 grants")
    story.cosigners, story.witnesses = [], []
    for name in WITNESSES:
        cosigner = CosignerKey(name, PrivateKey.generate("EdDSA"))
        state = story.folder / f"{name}.state.json"
        story.witnesses.append(
            Witness(cosigner, logs={ORIGIN: story.log.verifier}, state_path=state)
        )
        story.cosigners.append(cosigner)
    _say(f"  witnesses {', '.join(WITNESSES)} trust the ledger's log key")
    return f"{len(ISSUERS)} agencies (did:key), ledger, {len(WITNESSES)} witnesses", {
        "agencies": {name: issuer.did for name, issuer in story.issuers.items()},
        "witnesses": list(WITNESSES),
    }


def _status_checker(story: Story) -> StatusChecker:
    """A verifier's status checker reading the published lists from the status folder."""
    return StatusChecker(source=DirectorySource(story.folder / "status", base_url=STATUS_BASE))


def act_issue(story: Story) -> Outcome:
    """The wallet is created; residency, income and a course certificate are issued to it."""
    story.checker = _status_checker(story)
    with _progress("citizen wallet service and wallet (PIN-protected, encrypted at rest)"):
        story.service = WalletService(
            f"sqlite:{story.folder / 'wallet.db'}",
            ledger=story.ledger,
            master_key=LocalMasterKey.generate(),
            trust=story.trust,
            log_signer=story.log,
            status=story.checker,
        )
        story.closers.append(story.service.close)
        story.wallet = story.service.create(PIN)
    certifier = story.issuers["Seoul Childcare Teacher Training Institute"]
    with _progress("status list of 131,072 entries for the certificate issuer"):
        story.status = StatusRegistry(
            f"sqlite:{story.folder / 'status.db'}", issuer=certifier, base_url=STATUS_BASE
        )
        story.closers.append(story.status.close)
        story.certificate_slot = story.status.allocate("dc+sd-jwt")
    story.credentials = {}
    for name, (type_name, schema) in ISSUERS.items():
        status = story.certificate_slot.status_claim() if schema == "certificate" else None
        story.credentials[schema] = story.issuers[name].issue(
            type_name,
            example_subject(schema),
            holder=story.wallet.holder_public_key,
            status=status,
        )
        _say(f"  {type_name:<22} issued by {name} ({len(story.credentials[schema])} bytes)")
    with _progress("status list signed and published to the status folder"):
        story.status.write_to(story.folder / "status", story.status.publish(everything=True))
    return "residency, income, course certificate (with status entry)", {
        "credentials": sorted(story.credentials),
        "holder": story.wallet.holder_did,
    }


def act_receive(story: Story) -> Outcome:
    """The citizen's wallet checks and keeps each credential."""
    for token in story.credentials.values():
        held = story.wallet.receive(token)
        _say(f"  kept {held.type} from {held.issuer[:30]}...")
    count = len(story.wallet.credentials(PIN))
    _expect(count == len(ISSUERS), "the wallet holds the three credentials")
    return f"{count} credentials verified and stored encrypted", {"held": count}


def act_consent(story: Story) -> Outcome:
    """The youth-housing office signs a request; the citizen consents to 2 views of 3 claims."""
    story.agency_key = PrivateKey.generate("EdDSA")
    story.agency = Verifier(trust=story.trust, status=story.checker)
    token = _housing_request(story)[0]
    opened = story.service.open_request(token)
    _say(f"  request from {signer_did(story.agency_key.public_key)[:30]}...: {opened.purpose!r}")
    grant = story.wallet.grant(
        PIN, token, max_views=2, expires_at=datetime.now(UTC) + timedelta(days=30)
    )
    story.consent = grant.consent_id
    claims = [".".join(str(part) for part in p) for item in grant.items for p in item.claims]
    _say(f"  consent {grant.consent_id[:12]}... on the ledger: {', '.join(claims)}; 2 views")
    return "3 claims, budget of 2 views, recorded on the ledger", {
        "consent": grant.consent_id,
        "claims": claims,
        "max_views": 2,
    }


def _housing_request(story: Story) -> tuple[str, str]:
    return _request(story.agency_key, story.agency, HOUSING_PURPOSE, HOUSING_QUERIES)


def _request(
    key: PrivateKey, verifier: Verifier, purpose: str, queries: tuple[CredentialQuery, ...]
) -> tuple[str, str]:
    """A verifier's signed request with a fresh nonce from its nonce store."""
    nonce = verifier.new_nonce()
    token = create_request(
        key, nonce=nonce, purpose=purpose, credentials=queries, iat=int(time.time())
    )
    return token, nonce


def _check(
    story: Story, key: PrivateKey, verifier: Verifier, shown: ConsentedPresentation, nonce: str
) -> ConsentedView:
    """The verifier's check of a consented presentation and its view receipt."""
    did = signer_did(key.public_key)
    return check_consented_presentation(
        shown.vp_token,
        shown.receipt,
        verifier=verifier,
        verifier_did=did,
        client_id=CLIENT_ID_PREFIX + did,
        nonce=nonce,
        origin=ORIGIN,
        log_key=story.log.verifier,
        witnesses=WitnessPolicy.unwitnessed(),
    )


def act_views(story: Story) -> Outcome:
    """Two views succeed with their ledger receipts; the third is refused."""
    views = []
    for _ in range(2):
        token, nonce = _housing_request(story)
        checked = _check(
            story, story.agency_key, story.agency, story.wallet.view(story.consent, token), nonce
        )
        k = checked.view.view
        views.append({"view": k, "outcome": "ok", "claims": checked.claims})
        shown_claims = json.dumps(checked.claims, ensure_ascii=False)
        _say(f"  view {k} of {checked.view.max_views}: {shown_claims}")
    token, _ = _housing_request(story)
    code = _refused(lambda: story.wallet.view(story.consent, token), Code.CONSENT_EXHAUSTED)
    views.append({"view": 3, "outcome": "refused", "code": code})
    _say(f"  view 3: refused, {code}")
    return f"views 1 and 2 verified; view 3 refused: {code}", {"views": views}


def act_history(story: Story) -> Outcome:
    """The citizen reads her history: receipts, the consent, each view and the refusal."""
    events = story.wallet.history(PIN)
    for event in events:
        extra = event.details.get("type") or event.details.get("reason") or ""
        if event.kind == "consent_granted":
            extra = f"{event.details.get('max_views')} views"
        if event.kind == "view":
            extra = f"{event.details.get('view')} of {event.details.get('max_views')}"
        _say(f"  {event.seq:>2}. {event.kind:<20} {extra}")
    kinds = [event.kind for event in events]
    _expect(kinds.count("view") == 2 and "refusal" in kinds, "history shows views and refusal")
    return f"{len(events)} events, no claim values", {"events": kinds}


def act_revoke(story: Story) -> Outcome:
    """A daycare centre checks the certificate; it is revoked; the next check fails."""
    employer_key = PrivateKey.generate("EdDSA")
    employer = Verifier(trust=story.trust, status=_status_checker(story))
    token, _ = _request(employer_key, employer, CERTIFICATE_PURPOSE, CERTIFICATE_QUERIES)
    expires = datetime.now(UTC) + timedelta(days=30)
    consent = story.wallet.grant(PIN, token, max_views=2, expires_at=expires).consent_id
    token, nonce = _request(employer_key, employer, CERTIFICATE_PURPOSE, CERTIFICATE_QUERIES)
    checked = _check(story, employer_key, employer, story.wallet.view(consent, token), nonce)
    title = checked.claims["certificate"]["title"]
    _say(f"  daycare centre verified {title!r}: status valid")
    story.status.revoke(story.certificate_slot)
    with _progress("revocation published in a new version of the status list"):
        story.status.write_to(story.folder / "status", story.status.publish())
    # The next check: the wallet and the centre each consult the published list.
    token, nonce = _request(employer_key, employer, CERTIFICATE_PURPOSE, CERTIFICATE_QUERIES)
    fresh = Verifier(trust=story.trust, status=_status_checker(story))

    refused_by = "wallet"  # the wallet checks status before it spends a view

    def next_check() -> None:
        nonlocal refused_by
        shown = story.wallet.view(consent, token)
        refused_by = "daycare centre"
        _check(story, employer_key, fresh, shown, nonce)

    code = _refused(next_check, Code.REVOKED)
    _say(f"  next verification: refused by the {refused_by}, {code}")
    details = {"outcome": "refused", "code": code, "refused_by": refused_by}
    return f"verified, revoked, then refused: {code}", details


def act_poll(story: Story) -> Outcome:
    """A district poll: register by credential, vote once, a second vote is refused."""
    now = datetime.now(UTC)
    verifier = Verifier(trust=story.trust)
    registrar = Registrar(
        story.registrar_key, nullifier_secret=secrets.token_bytes(32), verifier=verifier
    )
    poll = open_poll(
        story.ledger,
        story.proposer,
        poll_id="mapo-night-bus-2026",
        question="Extend the Mapo night bus?",
        options=["yes", "no"],
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=7),
        rule={
            "all": [
                {"claim": "address.district", "in": ["마포구"]},
                {"claim": "ageOver14", "equals": True},
            ]
        },
        registrar=registrar.did,
    )
    _say(f"  poll {poll.poll_id!r} opened: {poll.question}")
    # The citizen's voting app holds a residency credential bound to its own key.
    phone = PrivateKey.generate("ES256")
    ministry = story.issuers["Ministry of the Interior"]
    residency = ministry.issue(
        "ResidencyCredential", example_subject("residency"), holder=phone.public_key
    )

    def register(voter_key: PrivateKey) -> None:
        voter = signer_did(voter_key.public_key)
        challenge = registrar.challenge(poll.poll_id, voter)
        shown = present(
            residency,
            phone,
            disclose=["address.district", "ageOver14", "personPseudonym"],
            aud=challenge.aud,
            nonce=challenge.nonce,
            iat=story.now(),
        )
        registrar.register(story.ledger, poll.poll_id, shown, voter=voter, nonce=challenge.nonce)

    voter_key = PrivateKey.generate()
    register(voter_key)
    _say("  citizen registered with a fresh voter key (nullifier recorded, no name)")
    second_registration = _refused(lambda: register(PrivateKey.generate()), Code.NULLIFIER_USED)
    _say(f"  second registration of the same person: refused, {second_registration}")
    receipt = cast(story.ledger, voter_key, poll.poll_id, "yes")
    story.ballot_index = receipt.index
    _say(f"  ballot 'yes' cast (ledger index {receipt.index})")
    double = _refused(lambda: cast(story.ledger, voter_key, poll.poll_id, "no"), Code.ALREADY_VOTED)
    _say(f"  second ballot: refused, {double}")
    live = tally(story.ledger, poll.poll_id)
    final = close(story.ledger, story.proposer, poll.poll_id)
    _expect(final.counts == live.counts == (1, 0) and final.closed, "one ballot for 'yes'")
    _say(f"  observer's tally {dict(zip(final.options, final.counts, strict=True))}; poll closed")
    return f"1 ballot counted; double vote refused: {double}", {
        "tally": dict(zip(final.options, final.counts, strict=True)),
        "second_registration": {"outcome": "refused", "code": second_registration},
        "double_vote": {"outcome": "refused", "code": double},
    }


def act_mileage(story: Story) -> Outcome:
    """Eco mileage accrues, converts to S-Coin, is spent on transit and settled."""
    accounts = MileageAccounts(story.ledger)
    office = story.mileage_office
    accounts.register_programme(office, "eco", authority=signer_did(story.eco_authority.public_key))
    accounts.register_merchant(office, "tmoney", kind="transit")
    citizen = PrivateKey.generate("ES256")
    account = signer_did(citizen.public_key)
    accounts.accrue(
        story.eco_authority, programme="eco", account=account, amount=500, idempotency_key="eco-1"
    )
    _say("  500 eco points accrued to a pseudonymous account")
    accounts.convert(citizen, programme="eco", points=300, idempotency_key="convert-1")
    _say("  300 points converted to 300 S-Coin (1:1)")
    accounts.spend(citizen, merchant="tmoney", amount=120, idempotency_key="spend-1")
    retry = accounts.spend(citizen, merchant="tmoney", amount=120, idempotency_key="spend-1")
    _expect(retry.duplicate, "a retried spend applies once")
    _say("  120 S-Coin spent on T-money (a retry applied once)")
    settled = accounts.settle(
        office, merchant="tmoney", period="2026-11", idempotency_key="settle-1"
    )
    _expect((settled.amount, settled.spends) == (120, 1), "the settlement matches the spend")
    balance = accounts.balance(account)
    _expect((balance.coins, balance.points) == (180, {"eco": 200}), "balances")
    with _progress("ledger state rebuilt by replaying the log"):
        story.ledger.rebuild()
    replayed = accounts.balance(account)
    _expect(replayed == balance, "replayed balances equal the live ones")
    _say(f"  settled {settled.amount} S-Coin; balance {balance.coins} S-Coin, {balance.points}")
    return f"accrued 500, converted 300, spent 120, settled; balance {balance.coins}", {
        "coins": balance.coins,
        "points": balance.points,
        "settled": settled.amount,
    }


def act_audit(story: Story) -> Outcome:
    """Witnesses cosign a checkpoint; a ballot's proof checks offline; the ledger is audited."""
    note = story.ledger.checkpoint(story.log)
    for witness in story.witnesses:
        note = witness.cosign(note)
    _say(
        f"  checkpoint of {story.ledger.size} entries cosigned by {len(story.witnesses)} witnesses"
    )
    bundle = make_bundle(story.ledger, story.ballot_index, note)
    policy = WitnessPolicy(witnesses=tuple(c.verifier for c in story.cosigners), threshold=2)
    entry = verify_bundle(bundle, origin=ORIGIN, log_key=story.log.verifier, witnesses=policy)
    _say(f"  offline proof: the ballot (entry {story.ballot_index}, {entry.type}) is in the tree")
    with _progress("audit: every hash and signature recomputed"):
        report = story.ledger.audit()
    return f"{report.size} entries audited; offline proof 2-of-2 ok", {
        "entries": report.size,
        "offline_proof": entry.type,
    }


ACTS: list[tuple[str, Callable[[Story], Outcome]]] = [
    ("Agencies and witnesses set up", act_setup),
    ("Credentials issued", act_issue),
    ("Wallet receives them", act_receive),
    ("Housing office asks, citizen consents", act_consent),
    ("Two views succeed, the third is refused", act_views),
    ("Citizen reads her history", act_history),
    ("Certificate revoked", act_revoke),
    ("District poll", act_poll),
    ("Mileage", act_mileage),
    ("Ledger audit and offline proof", act_audit),
]


def demo(json_output: JsonOption = False) -> None:
    """Run the whole programme on the embedded defaults in a temporary folder."""
    set_json_mode(json_output)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seoul-vc-demo-") as tmp:
        story = Story(Path(tmp))
        _say("seoul_vc demo: paperless administration, end to end\n")
        try:
            for number, (title, act) in enumerate(ACTS, start=1):
                _say(f"Act {number}. {title}")
                t0 = time.perf_counter()
                outcome, details = act(story)
                story.record.append(
                    {
                        "act": number,
                        "title": title,
                        "ok": True,
                        "outcome": outcome,
                        "details": details,
                        "seconds": round(time.perf_counter() - t0, 4),
                    }
                )
                _say("")
        finally:
            for closer in reversed(story.closers):
                closer()
    total = round(time.perf_counter() - started, 3)
    if json_mode():
        out = {"ok": True, "acts": story.record, "seconds": total}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return
    width = max(len(r["title"]) for r in story.record)
    typer.echo("Summary")
    for r in story.record:
        typer.echo(f"  {r['act']:>2}. {r['title']:<{width}}  {r['outcome']}")
    typer.echo(f"\nAll {len(story.record)} acts passed in {total} s.")
