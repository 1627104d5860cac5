"""The Citizen Card wallet backend API (``/wallet/v1/``) on a real uvicorn server over TLS.

A citizen creates a wallet, receives a credential the service's own issuer signs, lists and
shows it; a receiving agency (a did:key verifier) signs requests; the citizen grants two
views of two claims; the agency's views are checked end to end, the third is refused, the
history shows who viewed what; PIN failures are limited per citizen and per client; every
malformed input is a problem, never a 500. One PostgreSQL variant of the main flow.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from live_service import (
    LiveService,
    basic,
    create_wallet,
    problem,
    receive_residency,
    residency_credential,
)

from https_server import ServerState
from seoul_vc import Issuer, PrivateKey, Verifier
from seoul_vc.credentials.issuer import did_of
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.service import _auth
from seoul_vc.service._http import FailureLimiter
from seoul_vc.service.routes import wallet as wallet_routes
from seoul_vc.wallet import CredentialQuery, ViewReceipt, check_consented_presentation
from seoul_vc.wallet import create_request as sign_request
from seoul_vc.wallet.request import CLIENT_ID_PREFIX

PIN = "739164"
WRONG = "000000"
RESIDENCY = credential_type("ResidencyCredential")
ASKED = (("address", "district"), ("ageOver19",), ("name",), ("birthDate",))
API = "/wallet/v1"


class Agency:
    """A receiving agency identified by a did:key, with the library's verifier pipeline."""

    def __init__(self, live: LiveService) -> None:
        self.live = live
        self.key = PrivateKey.generate()
        self.did = did_of(self.key.public_key)
        self.verifier = Verifier(trust=live.service.trust, resolver=live.service.resolver)

    def request(self, nonce: str | None = None) -> tuple[str, str]:
        """A fresh signed request for the residency claims; returns it and its nonce."""
        chosen = nonce or self.verifier.new_nonce()
        query = CredentialQuery(id="residency", vct_values=(RESIDENCY.vct,), claims=ASKED)
        token = sign_request(
            self.key,
            nonce=chosen,
            purpose="Youth housing: residency in Seoul",
            credentials=(query,),
            iat=int(time.time()),
        )
        return token, chosen

    def view(self, consent_id: str, wallet_id: str, token: str | None = None) -> httpx.Response:
        """Ask for one view of a consent (no PIN: the signed request authorises)."""
        return self.live.client.post(
            f"{API}/consents/{consent_id}/views",
            json={"wallet_id": wallet_id, "request": token or self.request()[0]},
        )

    def check(self, answer: dict[str, Any], nonce: str) -> dict[str, Any]:
        """The agency's full check of the presentations and the receipt; the claims shown."""
        service = self.live.service
        shown = check_consented_presentation(
            answer["vp_token"],
            ViewReceipt.from_json(json.dumps(answer["receipt"])),
            verifier=self.verifier,
            verifier_did=self.did,
            client_id=CLIENT_ID_PREFIX + self.did,
            nonce=nonce,
            origin=service.config.origin,
            log_key=service.log_signer.verifier,
            witnesses=service.witness_policy,
        )
        assert (shown.view.view, shown.view.max_views) == (answer["view"], answer["max_views"])
        return dict(shown.claims["residency"])


def _grant(live: LiveService, wallet_id: str, agency: Agency, **extra: Any) -> dict[str, Any]:
    body = {
        "request": agency.request()[0],
        "max_views": 2,
        "expires_at": int(time.time()) + 3600,
        "claims": {"residency": ["address.district", ["ageOver19"]]},
        **extra,
    }
    response = live.client.post(f"{API}/consents", json=body, headers=basic(wallet_id, PIN))
    assert response.status_code == 201, response.text
    consent: dict[str, Any] = response.json()
    return consent


def _citizen_flow(live: LiveService) -> None:
    """Create, receive, list, show, open a request, grant 2 views, view twice, third refused."""
    client = live.client
    created = client.post(f"{API}/wallets", json={"pin": PIN})
    assert created.status_code == 201
    wallet_id = created.json()["wallet_id"]
    assert live.service.wallets is not None
    holder = live.service.wallets.holder_public_key(wallet_id)
    assert created.json()["holder_did"] == did_of(holder)
    assert created.json()["holder_jwk"] == holder.to_jwk()

    credential_id = receive_residency(live, wallet_id, PIN)
    listed = client.get(f"{API}/credentials", headers=basic(wallet_id, PIN))
    assert listed.status_code == 200
    (held,) = listed.json()["credentials"]
    assert held["id"] == credential_id
    assert (held["type"], held["format"], held["issuer"]) == (
        "ResidencyCredential",
        "dc+sd-jwt",
        live.service.did,
    )
    subject = example_subject("residency")
    for value in (subject["birthDate"], subject["address"]["district"]):
        assert value not in listed.text  # no claim values in the list
    shown = client.get(f"{API}/credentials/{credential_id}", headers=basic(wallet_id, PIN)).json()
    assert shown["claims"]["name"] == subject["name"]
    assert shown["claims"]["birthDate"] == subject["birthDate"]
    assert shown["claims"]["address"]["district"] == subject["address"]["district"]

    agency = Agency(live)
    opened = client.post(
        f"{API}/requests/open", json={"request": agency.request()[0]}, headers=basic(wallet_id, PIN)
    )
    assert opened.status_code == 200, opened.text
    asked = opened.json()
    assert asked["verifier"] == agency.did
    assert asked["credentials"][0]["claims"] == [
        "address.district",
        "ageOver19",
        "name",
        "birthDate",
    ]
    assert asked["credentials"][0]["matches"] == [credential_id]

    consent = _grant(live, wallet_id, agency)
    assert consent["credentials"] == [
        {
            "query_id": "residency",
            "credential_id": credential_id,
            "claims": ["address.district", "ageOver19"],
        }
    ]
    assert (consent["views"], consent["max_views"], consent["withdrawn"]) == (0, 2, False)
    consent_id = consent["consent_id"]

    for k in (1, 2):
        token, nonce = agency.request()
        answer = agency.view(consent_id, wallet_id, token)
        assert answer.status_code == 200, answer.text
        assert answer.json()["view"] == k
        claims = agency.check(answer.json(), nonce)
        assert claims == {
            "address": {"district": subject["address"]["district"]},
            "ageOver19": subject["ageOver19"],
        }
    problem(agency.view(consent_id, wallet_id), 409, "consent_exhausted")

    (listed_consent,) = client.get(f"{API}/consents", headers=basic(wallet_id, PIN)).json()[
        "consents"
    ]
    assert (listed_consent["views"], listed_consent["consent_id"]) == (2, consent_id)
    events = client.get(f"{API}/history", headers=basic(wallet_id, PIN)).json()["events"]
    views = [e["details"] for e in events if e["kind"] == "view"]
    assert [(v["view"], v["verifier"]) for v in views] == [(1, agency.did), (2, agency.did)]
    assert views[0]["claims"] == {"residency": ["address.district", "ageOver19"]}
    refusals = [e["details"] for e in events if e["kind"] == "refusal"]
    assert [(r["reason"], r["verifier"]) for r in refusals] == [("consent_exhausted", agency.did)]
    assert subject["birthDate"] not in json.dumps(events)


def test_citizen_grants_two_views_and_the_third_is_refused(live_service: LiveService) -> None:
    """The whole flow over HTTP: two consented views pass the agency's check, the third 409."""
    _citizen_flow(live_service)


def test_withdrawn_consent_is_refused_and_deleted_credential_gone(
    live_service: LiveService,
) -> None:
    """Withdraw answers the ledger index; a later view is consent_withdrawn; delete is 204."""
    live = live_service
    wallet_id = create_wallet(live, PIN)
    credential_id = receive_residency(live, wallet_id, PIN)
    agency = Agency(live)
    consent_id = _grant(live, wallet_id, agency)["consent_id"]
    withdrawn = live.client.delete(f"{API}/consents/{consent_id}", headers=basic(wallet_id, PIN))
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn"] is True
    assert live.service.ledger.entry(withdrawn.json()["ledger_index"]).type == "consent.withdraw"
    problem(agency.view(consent_id, wallet_id), 409, "consent_withdrawn")
    again = live.client.delete(f"{API}/consents/{consent_id}", headers=basic(wallet_id, PIN))
    problem(again, 409, "consent_withdrawn")
    (consent,) = live.client.get(f"{API}/consents", headers=basic(wallet_id, PIN)).json()[
        "consents"
    ]
    assert consent["withdrawn"] is True

    deleted = live.client.delete(
        f"{API}/credentials/{credential_id}", headers=basic(wallet_id, PIN)
    )
    assert deleted.status_code == 204
    assert live.client.get(f"{API}/credentials", headers=basic(wallet_id, PIN)).json() == {
        "credentials": []
    }
    gone = live.client.get(f"{API}/credentials/{credential_id}", headers=basic(wallet_id, PIN))
    problem(gone, 404, "not_found")


def test_views_refused_for_other_verifier_replay_expiry_and_unknown_consent(
    live_service: LiveService,
) -> None:
    """wrong_verifier 403, nonce_replayed 409, consent_expired 409, unknown_consent 409."""
    live = live_service
    wallet_id = create_wallet(live, PIN)
    receive_residency(live, wallet_id, PIN)
    agency = Agency(live)
    consent_id = _grant(live, wallet_id, agency, max_views=5)["consent_id"]
    problem(Agency(live).view(consent_id, wallet_id), 403, "wrong_verifier")
    token, _ = agency.request()
    assert agency.view(consent_id, wallet_id, token).status_code == 200
    problem(agency.view(consent_id, wallet_id, token), 409, "nonce_replayed")
    problem(agency.view("A" * 22, wallet_id), 409, "unknown_consent")
    problem(agency.view(consent_id, "B" * 16), 409, "unknown_consent")
    problem(agency.view(consent_id, wallet_id, "not.a.jwt"), 400, "invalid_encoding")

    short = _grant(live, wallet_id, agency, expires_at=int(time.time()) + 2)["consent_id"]
    time.sleep(3)
    problem(agency.view(short, wallet_id), 409, "consent_expired")


def test_views_never_fetch_the_did_web_of_a_verifier_the_consent_does_not_name(
    live_service: LiveService, server: ServerState
) -> None:
    """The anonymous view endpoint resolves only the consent's own did:web verifier.

    Consent ids are on the public ledger; a request signed for a stranger's did:web (any
    host) is refused before the service fetches that host's DID document.
    """
    live = live_service
    wallet_id = create_wallet(live, PIN)
    receive_residency(live, wallet_id, PIN)
    consent_id = _grant(live, wallet_id, Agency(live))["consent_id"]
    stranger = server.did("agency")
    query = CredentialQuery(id="residency", vct_values=(RESIDENCY.vct,), claims=ASKED)

    def request(key: PrivateKey, did: str, kid: str) -> str:
        nonce, now = secrets.token_urlsafe(16), int(time.time())
        asked = (query,)
        return sign_request(
            key, nonce=nonce, purpose="Youth housing", credentials=asked, iat=now, did=did, kid=kid
        )

    forged = request(PrivateKey.generate(), stranger, stranger + "#key-1")
    for consent in (consent_id, "E" * 22):
        answer = live.client.post(
            f"{API}/consents/{consent}/views", json={"wallet_id": wallet_id, "request": forged}
        )
        if consent == consent_id:
            problem(answer, 403, "wrong_verifier")
        else:
            problem(answer, 409, "unknown_consent")
    assert server.requests == []

    # The consent's own did:web verifier (the service's) is resolved and served.
    service = live.service
    assert service.config.verifier is not None
    own = request(service.config.verifier.key, service.did, service.kid("verifier-1"))
    granted = live.client.post(
        f"{API}/consents",
        json={"request": own, "max_views": 1, "expires_at": int(time.time()) + 600},
        headers=basic(wallet_id, PIN),
    )
    assert granted.status_code == 201, granted.text
    again = request(service.config.verifier.key, service.did, service.kid("verifier-1"))
    answer = live.client.post(
        f"{API}/consents/{granted.json()['consent_id']}/views",
        json={"wallet_id": wallet_id, "request": again},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["view"] == 1


def test_agency_refused_too_often_is_rate_limited(live_service: LiveService) -> None:
    """A client whose views keep being refused gets 429 (each refusal may be a ledger entry)."""
    live = live_service
    agency = Agency(live)
    token = agency.request()[0]
    for _ in range(wallet_routes.VIEW_REFUSALS_PER_CLIENT):
        problem(agency.view("C" * 22, "D" * 16, token), 409, "unknown_consent")
    limited = problem(agency.view("C" * 22, "D" * 16, token), 429, "rate_limited")
    assert int(limited["details"]["retry_after"]) > 0
    assert int(agency.view("C" * 22, "D" * 16, token).headers["retry-after"]) > 0


def test_wrong_pin_is_401_with_basic_challenge_then_waits_then_locks(
    live_service: LiveService,
) -> None:
    """unlock_failed 401 twice, then wallet_locked 409 with Retry-After, later locked for good."""
    live = live_service
    wallet_id = create_wallet(live, PIN)
    for _ in range(2):
        refused = live.client.get(f"{API}/credentials", headers=basic(wallet_id, WRONG))
        body = problem(refused, 401, "unlock_failed")
        assert refused.headers["www-authenticate"].startswith("Basic ")
        assert body["details"] == {"scheme": "Basic"}
    # After two failures the wallet imposes a wait, even on the right PIN.
    waiting = live.client.get(f"{API}/credentials", headers=basic(wallet_id, PIN))
    problem(waiting, 409, "wallet_locked")
    assert 0 < int(waiting.headers["retry-after"]) <= 5

    # Let the waits pass (the wallet's own PIN-delay columns), up to the fifth failure.
    db = live.config.stores["wallet"].removeprefix("sqlite:")
    for _ in range(3):
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE wallet_wallets SET failed_at = failed_at - 1000")
        refused = live.client.get(f"{API}/credentials", headers=basic(wallet_id, WRONG))
        problem(refused, 401, "unlock_failed")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE wallet_wallets SET failed_at = failed_at - 1000")
    locked = live.client.get(f"{API}/credentials", headers=basic(wallet_id, PIN))
    problem(locked, 409, "wallet_locked")
    assert "retry-after" not in locked.headers


def test_unknown_wallet_id_answers_exactly_like_a_wrong_pin(live_service: LiveService) -> None:
    """Same status, body and challenge, the same waits: a guesser cannot tell ids that exist."""
    live = live_service
    real = create_wallet(live, PIN)
    unknown = secrets.token_urlsafe(12)
    for step in range(3):
        answers = [
            live.client.get(f"{API}/history", headers=basic(wallet_id, WRONG))
            for wallet_id in (real, unknown)
        ]
        first, second = answers
        assert first.status_code == second.status_code == (401 if step < 2 else 409)
        one, two = first.json(), second.json()
        # The wait is counted in whole seconds from each wallet's own failure, made a moment
        # apart: it may differ by the one second boundary crossed in between.
        waits = [b["details"].pop("retry_after", None) for b in (one, two)]
        assert one == two
        assert (waits[0] is None) == (waits[1] is None) == (step < 2)
        if waits[0] is not None:
            assert abs(waits[0] - waits[1]) <= 1
        assert first.headers.get("www-authenticate") == second.headers.get("www-authenticate")
        assert (first.headers.get("retry-after") is None) == (step < 2)
    # A malformed id too: the same refusal, not a 400 or a 404.
    odd = live.client.get(f"{API}/history", headers=basic("no such wallet!", WRONG))
    problem(odd, 401, "unlock_failed")


def test_client_is_rate_limited_after_its_pin_failure_budget(live_service: LiveService) -> None:
    """A client spraying PINs over many wallet ids is stopped with 429 and Retry-After."""
    live = live_service
    wallet_id = create_wallet(live, PIN)
    budget = 20  # Service.pin_limiter
    for _ in range(budget):
        guess = live.client.get(
            f"{API}/credentials", headers=basic(secrets.token_urlsafe(12), WRONG)
        )
        problem(guess, 401, "unlock_failed")
    limited = live.client.get(f"{API}/credentials", headers=basic(wallet_id, PIN))
    problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    # Without any credentials the answer is still 401: nothing was tried.
    problem(live.client.get(f"{API}/credentials"), 401, "unauthorized")


def test_concurrent_wrong_pins_cannot_outrun_the_client_limit(live_service: LiveService) -> None:
    """A burst of simultaneous guesses gets no more tries than the client's budget.

    Each try holds a place in the client's count until its (slow, scrypt) PIN check ends:
    otherwise every request of a burst would pass the check before the first failure was
    recorded, and the per-client limit would not stop a spray over many wallet ids.
    """
    live = live_service
    budget, burst = 3, 8
    live.service.pin_limiter = FailureLimiter(max_failures=budget, window=900.0)

    def guess(_: int) -> str:
        wallet_id = secrets.token_urlsafe(12)
        response = live.client.get(f"{API}/credentials", headers=basic(wallet_id, WRONG))
        return str(response.json()["code"])

    with ThreadPoolExecutor(burst) as pool:
        codes = list(pool.map(guess, range(burst)))
    assert codes.count("unlock_failed") <= budget, codes
    assert codes.count("rate_limited") >= burst - budget, codes
    # Every try ended: the budget is spent (failures), nothing is still held.
    problem(
        live.client.get(f"{API}/history", headers=basic(create_wallet(live, PIN), PIN)),
        429,
        "rate_limited",
    )


def test_wallet_creation_is_limited_per_client(live_service: LiveService) -> None:
    """Past CREATIONS_PER_CLIENT wallets in the window, a client gets 429."""
    live = live_service
    for _ in range(_auth.CREATIONS_PER_CLIENT):
        create_wallet(live, PIN)
    refused = live.client.post(f"{API}/wallets", json={"pin": PIN})
    problem(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) > 0


def test_pin_change_and_backup_export(live_service: LiveService) -> None:
    """PUT /pin replaces the PIN; the backup restores (in the library) with the credential."""
    live = live_service
    wallet_id = create_wallet(live, PIN)
    credential_id = receive_residency(live, wallet_id, PIN)
    new_pin = "5821:93"  # a PIN may hold a colon: Basic splits at the first one
    changed = live.client.put(
        f"{API}/pin", json={"new_pin": new_pin}, headers=basic(wallet_id, PIN)
    )
    assert changed.status_code == 204
    problem(live.client.get(f"{API}/history", headers=basic(wallet_id, PIN)), 401, "unlock_failed")
    assert live.client.get(f"{API}/history", headers=basic(wallet_id, new_pin)).status_code == 200
    weak = live.client.put(f"{API}/pin", json={"new_pin": "12"}, headers=basic(wallet_id, new_pin))
    problem(weak, 400, "bad_argument")

    passphrase = "correct horse battery staple"
    exported = live.client.post(
        f"{API}/backup", json={"passphrase": passphrase}, headers=basic(wallet_id, new_pin)
    )
    assert exported.status_code == 200, exported.text
    assert live.service.wallets is not None
    restored = live.service.wallets.restore(exported.json()["backup"], passphrase, "246810")
    assert [h.id for h in restored.credentials("246810")] == [credential_id]
    short = live.client.post(
        f"{API}/backup", json={"passphrase": "short"}, headers=basic(wallet_id, new_pin)
    )
    problem(short, 400, "bad_argument")


def test_receive_refuses_a_credential_bound_to_another_wallet(live_service: LiveService) -> None:
    """The library's holder-binding check: 400 bad_argument; an untrusted issuer is 403."""
    live = live_service
    mine, other = create_wallet(live, PIN), create_wallet(live, PIN)
    foreign = residency_credential(live, other)
    refused = live.client.post(
        f"{API}/credentials", json={"credential": foreign}, headers=basic(mine, PIN)
    )
    problem(refused, 400, "bad_argument")
    assert live.service.wallets is not None
    stranger = Issuer(PrivateKey.generate()).issue(
        "ResidencyCredential",
        example_subject("residency"),
        holder=live.service.wallets.holder_public_key(mine),
    )
    untrusted = live.client.post(
        f"{API}/credentials", json={"credential": stranger}, headers=basic(mine, PIN)
    )
    problem(untrusted, 403, "untrusted_issuer")
    grant = live.client.post(
        f"{API}/consents",
        json={"request": Agency(live).request()[0], "max_views": 1, "expires_at": 2**37},
        headers=basic(mine, PIN),
    )
    problem(grant, 404, "not_found")  # nothing held answers the query


def test_pin_never_appears_in_logs(
    live_service: LiveService, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the PIN, a wrong one, nor the wallet id reach any log record."""
    live = live_service
    pin, wrong = "918273", "564738"
    with caplog.at_level(logging.DEBUG):
        wallet_id = create_wallet(live, pin)
        live.client.get(f"{API}/credentials", headers=basic(wallet_id, pin))
        live.client.get(f"{API}/credentials", headers=basic(wallet_id, wrong))
        live.client.post(
            f"{API}/wallets",
            content=f'{{"pin": "{pin}", "pin": "{pin}"}}',
            headers={"content-type": "application/json"},
        )
        live.client.put(f"{API}/pin", json={"new_pin": wrong}, headers=basic(wallet_id, pin))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "seoul_vc.service"]
    assert {line["route"] for line in lines} >= {f"{API}/wallets", f"{API}/credentials"}
    assert {line["code"] for line in lines} >= {"unlock_failed", "duplicate_key"}
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (pin, wrong, wallet_id):
        assert secret not in text


def _oversized(live: LiveService) -> bytes:
    return b'{"pin": "' + b"1" * live.config.max_body_bytes + b'"}'


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("no credentials", 401, "unauthorized"),
        ("bearer instead of basic", 401, "unauthorized"),
        ("basic not base64", 401, "unauthorized"),
        ("basic without colon", 401, "unauthorized"),
        ("basic not utf-8", 401, "unauthorized"),
        ("create bad json", 400, "malformed"),
        ("create duplicate keys", 400, "duplicate_key"),
        ("create oversized", 413, "too_large"),
        ("create unknown field", 400, "unknown field"),
        ("create pin not a string", 400, "malformed"),
        ("create pin too short", 400, "bad_argument"),
        ("create pin not printable", 400, "bad_argument"),
        ("create form body", 400, "malformed"),
        ("create json array", 400, "malformed"),
        ("grant max_views zero", 400, "malformed"),
        ("grant max_views boolean", 400, "malformed"),
        ("grant expires in the past", 400, "bad_argument"),
        ("grant claims not a map", 400, "malformed"),
        ("grant claim path of floats", 400, "malformed"),
        ("grant claim not asked", 403, "claim_not_requested"),
        ("grant missing request", 400, "malformed"),
        ("grant request not a jwt", 400, "malformed"),
        ("open unknown field", 400, "malformed"),
        ("view missing wallet", 400, "malformed"),
        ("view deep json", 400, "too_deep"),
        ("wrong method", 405, "malformed"),
    ],
)
def test_malformed_inputs_are_problems_never_500(
    live_service: LiveService, case: str, status: int, code: str
) -> None:
    """Each malformed request is a typed problem with its stable code."""
    live = live_service
    wallet_id = create_wallet(live, PIN)
    auth = basic(wallet_id, PIN)
    agency = Agency(live)
    grant = {"request": agency.request()[0], "max_views": 1, "expires_at": 2**37}
    json_type = {"content-type": "application/json"}
    requests: dict[str, tuple[str, str, dict[str, str], bytes | None]] = {
        "no credentials": ("GET", "/credentials", {}, None),
        "bearer instead of basic": ("GET", "/credentials", {"authorization": "Bearer x"}, None),
        "basic not base64": ("GET", "/history", {"authorization": "Basic !!!"}, None),
        "basic without colon": (
            "GET",
            "/history",
            {"authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
            None,
        ),
        "basic not utf-8": (
            "GET",
            "/history",
            {"authorization": "Basic " + base64.b64encode(b"\xff\xfe:1234").decode()},
            None,
        ),
        "create bad json": ("POST", "/wallets", json_type, b'{"pin": '),
        "create duplicate keys": ("POST", "/wallets", json_type, b'{"pin": "1234", "pin": "5"}'),
        "create oversized": ("POST", "/wallets", json_type, _oversized(live)),
        "create unknown field": ("POST", "/wallets", json_type, b'{"pin": "1234", "x": 1}'),
        "create pin not a string": ("POST", "/wallets", json_type, b'{"pin": 123456}'),
        "create pin too short": ("POST", "/wallets", json_type, b'{"pin": "12"}'),
        "create pin not printable": ("POST", "/wallets", json_type, b'{"pin": "12\\n34"}'),
        "create form body": (
            "POST",
            "/wallets",
            {"content-type": "application/x-www-form-urlencoded"},
            b"pin=1234",
        ),
        "create json array": ("POST", "/wallets", json_type, b'["pin"]'),
        "grant max_views zero": ("POST", "/consents", auth, {**grant, "max_views": 0}),
        "grant max_views boolean": ("POST", "/consents", auth, {**grant, "max_views": True}),
        "grant expires in the past": ("POST", "/consents", auth, {**grant, "expires_at": 5}),
        "grant claims not a map": ("POST", "/consents", auth, {**grant, "claims": ["name"]}),
        "grant claim path of floats": (
            "POST",
            "/consents",
            auth,
            {**grant, "claims": {"residency": [[1.5]]}},
        ),
        "grant claim not asked": (
            "POST",
            "/consents",
            auth,
            {**grant, "claims": {"residency": ["personPseudonym"]}},
        ),
        "grant missing request": ("POST", "/consents", auth, {"max_views": 1, "expires_at": 9}),
        "grant request not a jwt": ("POST", "/consents", auth, {**grant, "request": "x.y"}),
        "open unknown field": ("POST", "/requests/open", auth, {"request": "x", "pin": PIN}),
        "view missing wallet": ("POST", "/consents/" + "A" * 22 + "/views", {}, {"request": "x"}),
        "view deep json": (
            "POST",
            "/consents/" + "A" * 22 + "/views",
            json_type,
            b'{"wallet_id": ' + b"[" * 40 + b"]" * 40 + b"}",
        ),
        "wrong method": ("PATCH", "/consents", auth, None),
    }
    method, path, headers, content = requests[case]
    if isinstance(content, dict):
        response = live.client.request(method, API + path, json=content, headers=headers)
    else:
        response = live.client.request(method, API + path, content=content, headers=headers)
    if code == "unknown field":
        body = problem(response, status, "malformed")
        assert body["details"] == {"field": "x"}
        return
    body = problem(response, status, code)
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic realm=")
        assert body["details"]["scheme"] == "Basic"


def test_openapi_describes_the_wallet_api(live_service: LiveService) -> None:
    """Citizen operations declare Basic auth and its refusals; creation and views declare none."""
    paths = live_service.client.get("/openapi.json").json()["paths"]
    open_paths = {f"{API}/wallets", f"{API}/consents/{{consent_id}}/views"}
    citizen_paths = {
        f"{API}/credentials",
        f"{API}/credentials/{{credential_id}}",
        f"{API}/requests/open",
        f"{API}/consents",
        f"{API}/consents/{{consent_id}}",
        f"{API}/history",
        f"{API}/pin",
        f"{API}/backup",
    }
    assert open_paths | citizen_paths <= set(paths)
    for path in open_paths:
        for operation in paths[path].values():
            assert operation["security"] == []
            assert "429" in operation["responses"]
    for path in citizen_paths:
        for operation in paths[path].values():
            assert operation["security"] == [{"citizenPin": []}]
            assert {"401", "409", "429"} <= set(operation["responses"])


def test_postgresql_citizen_flow(
    start_service: Callable[..., LiveService], pg_schema_url: str
) -> None:
    """The main flow with every room in PostgreSQL schemas <prefix>_<room> (dropped after)."""
    import psycopg

    dsn, _, query = pg_schema_url.partition("?")
    prefix = next(p for p in query.split("&") if p.startswith("schema=")).removeprefix("schema=")
    try:
        live = start_service("pg", database=pg_schema_url, data_dir=None)
        assert live.config.stores["wallet"].endswith(f"schema={prefix}_wallet")
        _citizen_flow(live)
    finally:
        rest = "&".join(p for p in query.split("&") if not p.startswith("schema="))
        with psycopg.connect(f"{dsn}?{rest}" if rest else dsn, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            for room in ("ledger", "wallet", "status", "service"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}_{room}" CASCADE')
