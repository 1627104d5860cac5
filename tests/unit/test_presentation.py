"""OpenID4VP 1.0 verifier sessions (seoul_vc.presentation) and direct_post Request Objects."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seoul_vc import FixedClock, Issuer, Ledger, PrivateKey, SeoulVCError, TrustRegistry
from seoul_vc.credentials import present
from seoul_vc.credentials.issuer import did_of, kid_of
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.jose import encode_jwt
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.presentation import (
    PRESETS,
    RECEIPT_PARAMETER,
    PresentationSession,
    PresentationSessions,
    ReceiptPolicy,
)
from seoul_vc.wallet import (
    CitizenWallet,
    ConsentedPresentation,
    CredentialQuery,
    LocalMasterKey,
    ScryptParams,
    WalletService,
    create_request,
    open_request,
)
from seoul_vc.wallet.oid4vp import parse_authorization_request
from seoul_vc.wallet.request import CLIENT_ID_PREFIX, REQUEST_TYP

ORIGIN = "ledger.seoul.example/presentation-test"
PIN = "482913"
RESIDENCY = credential_type("ResidencyCredential")
INCOME = credential_type("IncomeCredential")
QUERY = PRESETS["residency_district"]


class City:
    """A ledger, a trusted ministry, a wallet service and an agency's presentation sessions."""

    def __init__(self, tmp_path: Path, clock: FixedClock, store_url: str | None = None) -> None:
        self.clock = clock
        self.ledger = Ledger.open(f"sqlite:{tmp_path / 'ledger.db'}", clock=clock)
        self.ledger.genesis(origin=ORIGIN, operator=PrivateKey.generate())
        self.log = NoteSigner(ORIGIN, PrivateKey.generate())
        self.ministry = Issuer(PrivateKey.generate(), clock=clock)
        self.trust = TrustRegistry.from_json(
            {
                "issuers": [
                    {"id": self.ministry.did, "types": ["ResidencyCredential", "IncomeCredential"]}
                ]
            }
        )
        self.wallets = WalletService(
            f"sqlite:{tmp_path / 'wallet.db'}",
            ledger=self.ledger,
            master_key=LocalMasterKey.generate(),
            trust=self.trust,
            log_signer=self.log,
            clock=clock,
            pin_cost=ScryptParams(n=2**10, r=8, p=1),
        )
        self.agency_key = PrivateKey.generate()
        self.sessions = PresentationSessions(
            store_url or f"sqlite:{tmp_path / 'service.db'}",
            key=self.agency_key,
            response_uri=lambda rid: f"https://agency.example/responses/{rid}",
            request_uri=lambda rid: f"https://agency.example/requests/{rid}",
            trust=self.trust,
            receipts=ReceiptPolicy(
                origin=ORIGIN, log_key=self.log.verifier, witnesses=WitnessPolicy.unwitnessed()
            ),
            clock=clock,
        )

    def close(self) -> None:
        """Close every store."""
        self.sessions.close()
        self.wallets.close()
        self.ledger.close()

    def now(self) -> int:
        """The fixed clock's POSIX seconds."""
        return int(self.clock.now().timestamp())

    def citizen(self) -> CitizenWallet:
        """A wallet holding a residency credential."""
        wallet = self.wallets.create(PIN)
        wallet.receive(
            self.ministry.issue(
                "ResidencyCredential", example_subject("residency"), holder=wallet.holder_public_key
            )
        )
        return wallet

    def consented(
        self, wallet: CitizenWallet, session: PresentationSession, claims: object = None
    ) -> ConsentedPresentation:
        """One consented view of the session's request."""
        grant = wallet.grant(
            PIN,
            session.request_object,
            max_views=1,
            expires_at=session.expires_at,
            claims=claims,
        )
        return wallet.view(grant.consent_id, session.request_object)

    def credential(self, holder: PrivateKey, type_name: str = "ResidencyCredential") -> str:
        """A credential bound to a key the test holds (for hand-made presentations)."""
        subject = example_subject("residency" if type_name == "ResidencyCredential" else "income")
        return self.ministry.issue(type_name, subject, holder=holder.public_key)


def form(
    session: PresentationSession,
    vp_token: dict[str, list[str]],
    receipt: str | None = None,
    state: str | None = None,
) -> dict[str, str]:
    """A direct_post body."""
    out = {"vp_token": json.dumps(vp_token), "state": session.state if state is None else state}
    if receipt is not None:
        out[RECEIPT_PARAMETER] = receipt
    return out


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at the current second."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def city(tmp_path: Path, clock: FixedClock) -> Iterator[City]:
    """The actors on SQLite."""
    c = City(tmp_path, clock)
    yield c
    c.close()


def _code(exc: pytest.ExceptionInfo[SeoulVCError]) -> str:
    return str(exc.value.code)


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# -- Request Objects with direct_post ------------------------------------------------------------


def test_request_object_carries_direct_post_members() -> None:
    """response_mode, response_uri and state are signed in and read back by open_request."""
    key = PrivateKey.generate()
    token = create_request(
        key,
        nonce="abcdefgh12",
        purpose="housing",
        credentials=QUERY,
        iat=1767225600,
        response_uri="https://agency.example/r/1",
        state="st-1_a.b~c",
    )
    claims = _payload(token)
    assert claims["response_mode"] == "direct_post"
    assert claims["response_uri"] == "https://agency.example/r/1"
    assert claims["state"] == "st-1_a.b~c"
    opened = open_request(token, now=1767225601)
    assert (opened.response_mode, opened.response_uri, opened.state) == (
        "direct_post",
        "https://agency.example/r/1",
        "st-1_a.b~c",
    )


def test_request_without_response_mode_still_opens() -> None:
    """Requests of existing callers (no response parameters) open with None for all three."""
    token = create_request(
        PrivateKey.generate(), nonce="abcdefgh12", purpose="p", credentials=QUERY, iat=1767225600
    )
    opened = open_request(token, now=1767225601)
    assert (opened.response_mode, opened.response_uri, opened.state) == (None, None, None)
    assert "response_mode" not in _payload(token)


@pytest.mark.parametrize(
    "extra",
    [
        {"response_mode": "fragment"},
        {"response_mode": "direct_post"},
        {"response_mode": "direct_post", "response_uri": "http://agency.example/r"},
        {"response_mode": "direct_post", "response_uri": "https://agency.example/r#f"},
        {"response_mode": "direct_post", "response_uri": "https://u:p@agency.example/r"},
        {"response_mode": "direct_post", "response_uri": "https://[::1/r"},
        {"response_mode": "direct_post", "response_uri": "https://agency.example/a b"},
        {"response_uri": "https://agency.example/r"},
        {
            "response_mode": "direct_post",
            "response_uri": "https://agency.example/r",
            "redirect_uri": "https://agency.example/cb",
        },
        {"state": "a b"},
        {"state": ""},
        {"state": 7},
    ],
)
def test_bad_response_parameters_are_refused(extra: dict[str, object]) -> None:
    """§8.2 and §5.2 rules on response_mode, response_uri, redirect_uri and state."""
    key = PrivateKey.generate()
    did = did_of(key.public_key)
    claims: dict[str, object] = {
        "response_type": "vp_token",
        "client_id": CLIENT_ID_PREFIX + did,
        "nonce": "abcdefgh12",
        "purpose": "p",
        "dcql_query": {"credentials": [q.to_json() for q in QUERY]},
        "iat": 1767225600,
        "exp": 1767226200,
        **extra,
    }
    token = encode_jwt(claims, key, typ=REQUEST_TYP, kid=kid_of(did, key.public_key))  # type: ignore[arg-type]
    with pytest.raises(SeoulVCError) as exc:
        open_request(token, now=1767225601)
    assert _code(exc) == "malformed"


def test_create_request_refuses_a_plain_http_response_uri() -> None:
    """The signer checks what the wallet would."""
    with pytest.raises(SeoulVCError) as exc:
        create_request(
            PrivateKey.generate(),
            nonce="abcdefgh12",
            purpose="p",
            credentials=QUERY,
            iat=1767225600,
            response_uri="http://agency.example/r",
        )
    assert _code(exc) == "malformed"


# -- sessions: creation ---------------------------------------------------------------------------


def test_session_request_object_is_signed_for_direct_post(city: City) -> None:
    """A fresh 256-bit nonce and state, the response_uri of the id, and the DID's client_id."""
    one = city.sessions.create(QUERY, purpose="Youth housing")
    two = city.sessions.create(QUERY, purpose="Youth housing")
    assert len({one.nonce, two.nonce, one.state, two.state}) == 4
    assert len(one.nonce) == len(one.state) == 43
    opened = open_request(city.sessions.request_object(one.request_id), now=city.now())
    assert opened.client_id == CLIENT_ID_PREFIX + did_of(city.agency_key.public_key)
    assert opened.response_uri == f"https://agency.example/responses/{one.request_id}"
    assert (opened.nonce, opened.state, opened.credentials) == (one.nonce, one.state, QUERY)
    assert opened.exp == one.expires_at


def test_authorization_request_is_by_reference(city: City) -> None:
    """openid4vp:// with client_id and request_uri only; the wallet's parser reads it back."""
    session = city.sessions.create(QUERY, purpose="p")
    url = city.sessions.authorization_request(session.request_id)
    parsed = parse_authorization_request(url)
    assert parsed.client_id == session.client_id
    assert parsed.request_uri == f"https://agency.example/requests/{session.request_id}"
    assert "nonce" not in url
    assert "state" not in url


@pytest.mark.parametrize(
    "url",
    [
        "https://wallet.example/?client_id=x&request_uri=https://a/r",
        "openid4vp://?client_id=decentralized_identifier%3Adid%3Ax%3Ay",
        "openid4vp://?client_id=decentralized_identifier%3Adid%3Ax%3Ay&request=eyJ.e.e"
        "&request_uri=https%3A%2F%2Fa%2Fr",
        "openid4vp://?client_id=x509_san_dns%3Aa.example&request_uri=https%3A%2F%2Fa%2Fr",
        "openid4vp://?client_id=decentralized_identifier%3Adid%3Ax%3Ay"
        "&request_uri=http%3A%2F%2Fa%2Fr",
        "openid4vp://?client_id=decentralized_identifier%3Adid%3Ax%3Ay"
        "&request_uri=https%3A%2F%2Fa%2Fr&request_uri=https%3A%2F%2Fb%2Fr",
        "openid4vp://?client_id=decentralized_identifier%3Adid%3Ax%3Ay"
        "&request_uri=https%3A%2F%2Fa%2Fr&request_uri_method=put",
        "openid4vp://?client_id=decentralized_identifier%3Adid%3Ax%3Ay&request_uri=%zz",
    ],
)
def test_wallet_refuses_unsigned_or_odd_authorization_requests(url: str) -> None:
    """Only signed requests by reference, one of each parameter, https, get or post."""
    with pytest.raises(SeoulVCError) as exc:
        parse_authorization_request(url)
    assert _code(exc) == "malformed"


def test_bad_queries_and_lifetimes_are_refused(city: City) -> None:
    """The DCQL subset and the lifetime bounds hold at creation."""
    bad = CredentialQuery(id="a b", vct_values=(RESIDENCY.vct,), claims=(("name",),))
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.create((bad,), purpose="p")
    assert _code(exc) == "malformed"
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.create(QUERY, purpose="p", lifetime=timedelta(hours=2))
    assert _code(exc) == "bad_argument"


# -- sessions: the one response ---------------------------------------------------------------


def test_consented_view_completes_with_exactly_the_disclosed_claims(city: City) -> None:
    """A Citizen Card answer with its receipt: the claims per query and view 1 of 1."""
    session = city.sessions.create(QUERY, purpose="Youth housing")
    shown = city.consented(city.citizen(), session)
    result = city.sessions.respond(
        session.request_id, form(session, shown.vp_token, shown.receipt.to_json())
    )
    assert result.status == "complete"
    assert result.claims == {"residency": {"address": {"district": "마포구"}, "ageOver19": True}}
    assert result.view is not None
    assert (result.view["view"], result.view["max_views"]) == (1, 1)
    assert (
        city.sessions.result(session.request_id).to_json()["claims"] == result.to_json()["claims"]
    )


def test_citizen_may_consent_to_fewer_claims_than_asked(city: City) -> None:
    """The result lists what was disclosed, not what was asked."""
    session = city.sessions.create(QUERY, purpose="p")
    shown = city.consented(city.citizen(), session, claims={"residency": ["ageOver19"]})
    result = city.sessions.respond(
        session.request_id, form(session, shown.vp_token, shown.receipt.to_json())
    )
    assert result.claims == {"residency": {"ageOver19": True}}


def test_presentation_without_receipt_is_verified_alone(city: City) -> None:
    """Any OpenID4VP wallet: no receipt, the presentation alone; no view in the result."""
    session = city.sessions.create(QUERY, purpose="p")
    holder = PrivateKey.generate("ES256")
    shown = present(
        city.credential(holder),
        holder,
        disclose=["address.district"],
        aud=session.client_id,
        nonce=session.nonce,
        iat=city.now(),
    )
    result = city.sessions.respond(session.request_id, form(session, {"residency": [shown]}))
    assert result.status == "complete"
    assert result.claims == {"residency": {"address": {"district": "마포구"}}}
    assert result.view is None


def test_replayed_response_is_refused_and_the_result_stands(city: City) -> None:
    """The same body twice: already_answered, and the first outcome is unchanged."""
    session = city.sessions.create(QUERY, purpose="p")
    shown = city.consented(city.citizen(), session)
    body = form(session, shown.vp_token, shown.receipt.to_json())
    first = city.sessions.respond(session.request_id, body)
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.respond(session.request_id, body)
    assert _code(exc) == "already_answered"
    assert city.sessions.result(session.request_id) == first
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.request_object(session.request_id)
    assert _code(exc) == "already_answered"


def _race(
    sessions: PresentationSessions, session: PresentationSession, body: dict[str, str]
) -> list[str]:
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def post() -> None:
        start.wait()
        try:
            sessions.respond(session.request_id, body)
            outcome = "ok"
        except SeoulVCError as exc:
            outcome = str(exc.code)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_concurrent_responses_take_the_request_once(city: City) -> None:
    """Eight threads post the same answer at once: one is taken, seven are already_answered."""
    session = city.sessions.create(QUERY, purpose="p")
    shown = city.consented(city.citizen(), session)
    body = form(session, shown.vp_token, shown.receipt.to_json())
    assert _race(city.sessions, session, body) == ["already_answered"] * 7 + ["ok"]
    assert city.sessions.result(session.request_id).status == "complete"


@pytest.mark.postgres
def test_concurrent_responses_take_the_request_once_on_postgres(
    tmp_path: Path, clock: FixedClock, pg_schema_url: str
) -> None:
    """The same race with the sessions in PostgreSQL."""
    c = City(tmp_path, clock, store_url=pg_schema_url)
    try:
        session = c.sessions.create(QUERY, purpose="p")
        shown = c.consented(c.citizen(), session)
        body = form(session, shown.vp_token, shown.receipt.to_json())
        assert _race(c.sessions, session, body) == ["already_answered"] * 7 + ["ok"]
        assert c.sessions.result(session.request_id).claims is not None
    finally:
        c.close()


def test_wrong_state_is_refused_without_spending_the_request(city: City) -> None:
    """state_mismatch; the right answer afterwards still completes."""
    session = city.sessions.create(QUERY, purpose="p")
    shown = city.consented(city.citizen(), session)
    receipt = shown.receipt.to_json()
    for state in ("x" * 43, ""):
        with pytest.raises(SeoulVCError) as exc:
            city.sessions.respond(
                session.request_id, form(session, shown.vp_token, receipt, state=state)
            )
        assert _code(exc) == "state_mismatch"
    assert city.sessions.result(session.request_id).status == "pending"
    body = form(session, shown.vp_token, receipt)
    assert city.sessions.respond(session.request_id, body).status == "complete"


@pytest.mark.parametrize("rid", ["A" * 22, "short", "../../etc", "A" * 23])
def test_unknown_request_ids_are_not_found(city: City, rid: str) -> None:
    """Unknown or ill-formed ids: not_found everywhere."""
    for call in (
        lambda: city.sessions.respond(rid, {"state": "s", "vp_token": "{}"}),
        lambda: city.sessions.result(rid),
        lambda: city.sessions.request_object(rid),
    ):
        with pytest.raises(SeoulVCError) as exc:
            call()
        assert _code(exc) == "not_found"


def test_expired_session_is_refused(city: City) -> None:
    """Past its expiry: the object and the response are refused; the result reads expired."""
    session = city.sessions.create(QUERY, purpose="p", lifetime=timedelta(seconds=60))
    shown = city.consented(city.citizen(), session)
    city.clock.advance(timedelta(seconds=61))
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.respond(
            session.request_id, form(session, shown.vp_token, shown.receipt.to_json())
        )
    assert _code(exc) == "expired"
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.request_object(session.request_id)
    assert _code(exc) == "expired"
    assert city.sessions.result(session.request_id).status == "expired"


def test_results_are_purged_after_their_retention(city: City) -> None:
    """A new request deletes sessions an hour past their expiry."""
    old = city.sessions.create(QUERY, purpose="p", lifetime=timedelta(seconds=60))
    city.clock.advance(timedelta(seconds=60 + 3600 + 1))
    city.sessions.create(QUERY, purpose="p")
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.result(old.request_id)
    assert _code(exc) == "not_found"


@pytest.mark.parametrize(
    ("aud", "nonce", "code"),
    [
        ("decentralized_identifier:did:web:other.example", None, "audience_mismatch"),
        (None, "another-verifiers-nonce", "nonce_mismatch"),
    ],
)
def test_presentation_for_another_verifier_fails_the_request(
    city: City, aud: str | None, nonce: str | None, code: str
) -> None:
    """A KB-JWT for another client_id or nonce fails, and the failure is the result."""
    session = city.sessions.create(QUERY, purpose="p")
    holder = PrivateKey.generate("ES256")
    shown = present(
        city.credential(holder),
        holder,
        disclose=["address.district"],
        aud=aud or session.client_id,
        nonce=nonce or session.nonce,
        iat=city.now(),
    )
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.respond(session.request_id, form(session, {"residency": [shown]}))
    assert _code(exc) == code
    result = city.sessions.result(session.request_id)
    assert (result.status, result.error, result.error_source) == ("failed", code, "verifier")
    assert result.claims is None


def test_receipt_for_another_nonce_is_refused(city: City) -> None:
    """A view receipt of another request's view: receipt_mismatch."""
    wallet = city.citizen()
    first = city.sessions.create(QUERY, purpose="p")
    second = city.sessions.create(QUERY, purpose="p")
    shown_first = city.consented(wallet, first)
    shown_second = city.consented(wallet, second)
    body = form(second, shown_second.vp_token, shown_first.receipt.to_json())
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.respond(second.request_id, body)
    assert _code(exc) == "receipt_mismatch"


def test_missing_query_answer_is_refused(city: City) -> None:
    """Two queries asked, one answered: query_not_answered."""
    income = CredentialQuery(id="income", vct_values=(INCOME.vct,), claims=(("householdSize",),))
    session = city.sessions.create((*QUERY, income), purpose="p")
    holder = PrivateKey.generate("ES256")
    shown = present(
        city.credential(holder),
        holder,
        disclose=["ageOver19"],
        aud=session.client_id,
        nonce=session.nonce,
        iat=city.now(),
    )
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.respond(session.request_id, form(session, {"residency": [shown]}))
    assert _code(exc) == "query_not_answered"


@pytest.mark.parametrize(
    ("query_id", "disclose", "type_name", "code"),
    [
        ("other", ["ageOver19"], "ResidencyCredential", "excess_disclosure"),
        ("residency", ["ageOver19", "name"], "ResidencyCredential", "excess_disclosure"),
        ("residency", ["householdSize"], "IncomeCredential", "wrong_type"),
    ],
)
def test_answers_outside_the_query_are_refused(
    city: City, query_id: str, disclose: list[str], type_name: str, code: str
) -> None:
    """An unasked query id, an unasked claim, an unasked credential type."""
    session = city.sessions.create(QUERY, purpose="p")
    holder = PrivateKey.generate("ES256")
    shown = present(
        city.credential(holder, type_name),
        holder,
        disclose=disclose,
        aud=session.client_id,
        nonce=session.nonce,
        iat=city.now(),
    )
    vp_token = {query_id: [shown]}
    if query_id != "residency":
        vp_token["residency"] = [shown]
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.respond(session.request_id, form(session, vp_token))
    assert _code(exc) == code


@pytest.mark.parametrize(
    "body",
    [
        {"vp_token": "{not json"},
        {"vp_token": "[]"},
        {"vp_token": "{}"},
        {"vp_token": '{"residency": "eyJ.a.b"}'},
        {"vp_token": '{"residency": ["a~", "b~"]}'},
        {"vp_token": '{"residency": [7]}'},
        {"vp_token": '{"residency": ["a~"], "residency": ["b~"]}'},
        {},
        {"vp_token": '{"residency": ["a~"]}', "error": "access_denied"},
        {"error": 'bad"quote'},
        {"vp_token": '{"residency": ["a~"]}', RECEIPT_PARAMETER: "{}"},
    ],
)
def test_malformed_responses_do_not_spend_the_request(city: City, body: dict[str, str]) -> None:
    """A body that is not an Authorization Response is refused as malformed; still pending."""
    session = city.sessions.create(QUERY, purpose="p")
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.respond(session.request_id, {**body, "state": session.state})
    assert _code(exc) in ("malformed", "duplicate_key")
    assert city.sessions.result(session.request_id).status == "pending"


def test_wallet_error_response_is_the_result(city: City) -> None:
    """An Authorization Error Response (§8.5) completes the request as failed by the wallet."""
    session = city.sessions.create(QUERY, purpose="p")
    body = {"error": "access_denied", "error_description": "declined", "state": session.state}
    result = city.sessions.respond(session.request_id, body)
    assert (result.status, result.error, result.error_source) == (
        "failed",
        "access_denied",
        "wallet",
    )
    assert result.to_json()["error"] == {"code": "access_denied", "source": "wallet"}


def test_result_of_another_owner_is_not_found(city: City) -> None:
    """The agency system that created a request reads it; another one does not see it."""
    session = city.sessions.create(QUERY, purpose="p", owner="sha256:aa")
    assert city.sessions.result(session.request_id, owner="sha256:aa").status == "pending"
    with pytest.raises(SeoulVCError) as exc:
        city.sessions.result(session.request_id, owner="sha256:bb")
    assert _code(exc) == "not_found"
