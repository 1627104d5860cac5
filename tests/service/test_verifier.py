"""OpenID4VP 1.0 over the live service: request by reference, direct_post, result.

An agency asks, a Citizen Card wallet answers by direct_post, the agency reads exactly the
disclosed claims; every refusal has its code.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from live_service import LiveService, basic, problem

from seoul_vc import Issuer, PrivateKey
from seoul_vc._tables import open_table_store
from seoul_vc.credentials import present
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.ledger.bundle import format_cosigner_key
from seoul_vc.ledger.checkpoint import CosignerKey
from seoul_vc.wallet import CitizenWallet

PIN = "482913"
RESIDENCY_CLAIMS = {"residency": {"address": {"district": "마포구"}, "ageOver19": True}}


def _issuer(live: LiveService) -> Issuer:
    service = live.service
    assert service.config.issuer is not None
    return Issuer(service.config.issuer.key, did=service.did, kid=service.kid("issuer-1"))


def _citizen(live: LiveService) -> CitizenWallet:
    """A wallet on the service holding a residency credential of the service's issuer."""
    wallets = live.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    wallet.receive(
        _issuer(live).issue(
            "ResidencyCredential", example_subject("residency"), holder=wallet.holder_public_key
        )
    )
    return wallet


def _create(live: LiveService, **body: Any) -> dict[str, Any]:
    body.setdefault("purpose", "Youth housing")
    if "dcql_query" not in body:
        body.setdefault("preset", "residency_district")
    response = live.client.post("/verifier/v1/requests", json=body, headers=live.agency("verifier"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _result(live: LiveService, rid: str) -> dict[str, Any]:
    response = live.client.get(
        f"/verifier/v1/requests/{rid}/result", headers=live.agency("verifier")
    )
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def _request_object(live: LiveService, rid: str) -> tuple[str, dict[str, Any]]:
    response = live.client.get(f"/verifier/v1/requests/{rid}/object")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/oauth-authz-req+jwt"
    token = response.text
    part = token.split(".")[1]
    return token, json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _consented_form(live: LiveService, wallet: CitizenWallet, rid: str) -> dict[str, str]:
    """The direct_post body a Citizen Card wallet sends: vp_token, state, view_receipt."""
    token, claims = _request_object(live, rid)
    grant = wallet.grant(PIN, token, max_views=1, expires_at=int(claims["exp"]))
    shown = wallet.view(grant.consent_id, token)
    return {
        "vp_token": json.dumps(shown.vp_token),
        "state": claims["state"],
        "view_receipt": shown.receipt.to_json(),
    }


def _hand_made(
    live: LiveService, claims: dict[str, Any], *, aud: str | None = None, nonce: str | None = None
) -> str:
    """A presentation by a holder key the test holds (as any OpenID4VP wallet would send)."""
    holder = PrivateKey.generate("ES256")
    credential = _issuer(live).issue(
        "ResidencyCredential", example_subject("residency"), holder=holder.public_key
    )
    return present(
        credential,
        holder,
        disclose=["address.district", "ageOver19"],
        aud=aud or str(claims["client_id"]),
        nonce=nonce or str(claims["nonce"]),
        iat=int(time.time()),
    )


def _flow(live: LiveService) -> None:
    """The agency asks, the wallet answers over /wallet/v1/presentations, the agency reads."""
    wallet = _citizen(live)
    created = _create(live)
    rid = created["request_id"]
    assert created["client_id"] == f"decentralized_identifier:{live.service.did}"
    assert created["authorization_request"].startswith("openid4vp://?client_id=")
    assert _result(live, rid)["status"] == "pending"
    response = live.client.post(
        "/wallet/v1/presentations",
        json={"authorization_request": created["authorization_request"]},
        headers=basic(wallet.id, PIN),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["attempts"]) == (True, 1)
    assert answer["client_id"] == created["client_id"]
    assert answer["claims"] == {"residency": ["address.district", "ageOver19"]}
    assert (answer["view"], answer["max_views"]) == (1, 1)
    result = _result(live, rid)
    assert result["status"] == "complete"
    assert result["claims"] == RESIDENCY_CLAIMS
    assert (result["view"]["view"], result["view"]["max_views"]) == (1, 1)
    assert result["view"]["consent_id"] == answer["consent_id"]
    # The citizen's history holds the one-view consent and the view, on the ledger.
    kinds = [e.kind for e in wallet.history(PIN)]
    assert kinds[-2:] == ["consent_granted", "view"]


def test_wallet_answers_and_agency_reads_exactly_the_disclosed_claims(
    live_service: LiveService,
) -> None:
    """The whole OpenID4VP flow over HTTPS: request by reference, direct_post, result."""
    _flow(live_service)


def test_receipts_of_a_witnessed_ledger_are_accepted_at_once(
    start_service: Callable[..., LiveService],
) -> None:
    """With witnesses configured, a Citizen Card answer is still accepted when it arrives.

    The view's receipt is under a checkpoint signed at the view, before any witness polled
    it; the service's verifier checks receipts of its own log under its own log key.
    """
    witness = CosignerKey("witness-1.seoul.example", PrivateKey.generate("EdDSA"))
    ledger = {"witnesses": [format_cosigner_key(witness.verifier)], "witness_threshold": 1}
    _flow(start_service("witnessed", ledger=ledger))


def test_citizen_consents_to_fewer_claims(live_service: LiveService) -> None:
    """The wallet endpoint's claims choice: only those reach the agency."""
    live = live_service
    wallet = _citizen(live)
    created = _create(live)
    response = live.client.post(
        "/wallet/v1/presentations",
        json={
            "authorization_request": created["authorization_request"],
            "claims": {"residency": ["ageOver19"]},
        },
        headers=basic(wallet.id, PIN),
    )
    assert response.status_code == 200, response.text
    assert _result(live, created["request_id"])["claims"] == {"residency": {"ageOver19": True}}


def test_dcql_query_in_the_body(live_service: LiveService) -> None:
    """An agency may write its own DCQL query instead of a preset."""
    live = live_service
    wallet = _citizen(live)
    query = {
        "credentials": [
            {
                "id": "home",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [credential_type("ResidencyCredential").vct]},
                "claims": [{"path": ["address", "city"]}],
            }
        ]
    }
    created = _create(live, dcql_query=query)
    response = live.client.post(
        "/wallet/v1/presentations",
        json={"authorization_request": created["authorization_request"]},
        headers=basic(wallet.id, PIN),
    )
    assert response.json()["accepted"] is True
    assert _result(live, created["request_id"])["claims"] == {
        "home": {"address": {"city": "서울특별시"}}
    }


def test_replayed_direct_post_is_refused(live_service: LiveService) -> None:
    """The same body again (same state): 409 already_answered; the result stands."""
    live = live_service
    created = _create(live)
    rid = created["request_id"]
    body = _consented_form(live, _citizen(live), rid)
    first = live.client.post(f"/verifier/v1/responses/{rid}", data=body)
    assert first.status_code == 200, first.text
    assert first.json() == {}
    problem(live.client.post(f"/verifier/v1/responses/{rid}", data=body), 409, "already_answered")
    assert _result(live, rid)["claims"] == RESIDENCY_CLAIMS
    problem(live.client.get(f"/verifier/v1/requests/{rid}/object"), 409, "already_answered")


def test_wrong_state_is_refused(live_service: LiveService) -> None:
    """422 state_mismatch, and the request still waits for its answer."""
    live = live_service
    rid = _create(live)["request_id"]
    body = _consented_form(live, _citizen(live), rid)
    wrong = {**body, "state": "A" * 43}
    problem(live.client.post(f"/verifier/v1/responses/{rid}", data=wrong), 422, "state_mismatch")
    assert _result(live, rid)["status"] == "pending"
    assert live.client.post(f"/verifier/v1/responses/{rid}", data=body).status_code == 200


def test_unknown_request_id_is_not_found(live_service: LiveService) -> None:
    """404 not_found for the object, the response and the result."""
    live = live_service
    rid = "A" * 22
    problem(live.client.get(f"/verifier/v1/requests/{rid}/object"), 404, "not_found")
    response = live.client.post(
        f"/verifier/v1/responses/{rid}", data={"state": "s", "vp_token": "{}"}
    )
    problem(response, 404, "not_found")
    response = live.client.get(
        f"/verifier/v1/requests/{rid}/result", headers=live.agency("verifier")
    )
    problem(response, 404, "not_found")


def test_expired_session_is_refused(live_service: LiveService) -> None:
    """Past its expiry: 422 expired for the response; the result reads expired."""
    live = live_service
    rid = _create(live, expires_in=30)["request_id"]
    body = _consented_form(live, _citizen(live), rid)
    # Time passes for this session: its expiry is moved into the past in its own store.
    store = open_table_store(
        live.config.stores["service"], ddl=(), name="test", default_schema="seoul_vc_service"
    )
    try:
        with store.write() as tx:
            tx.execute(
                "UPDATE {p}presentation_sessions SET expires_at = ? WHERE request_id = ?",
                (int(time.time()) - 1, rid),
            )
    finally:
        store.close()
    problem(live.client.post(f"/verifier/v1/responses/{rid}", data=body), 422, "expired")
    problem(live.client.get(f"/verifier/v1/requests/{rid}/object"), 422, "expired")
    assert _result(live, rid)["status"] == "expired"


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"aud": "decentralized_identifier:did:web:other.example"}, "audience_mismatch"),
        ({"nonce": "another-verifiers-nonce-0123456789"}, "nonce_mismatch"),
    ],
)
def test_presentation_for_another_verifier_is_refused(
    live_service: LiveService, override: dict[str, str], code: str
) -> None:
    """A KB-JWT for another aud or nonce: 422 with its code, and the result says so."""
    live = live_service
    rid = _create(live)["request_id"]
    _, claims = _request_object(live, rid)
    shown = _hand_made(live, claims, **override)
    body = {"vp_token": json.dumps({"residency": [shown]}), "state": claims["state"]}
    problem(live.client.post(f"/verifier/v1/responses/{rid}", data=body), 422, code)
    result = _result(live, rid)
    assert result["status"] == "failed"
    assert result["error"] == {"code": code, "source": "verifier"}
    assert "claims" not in result


def test_presentation_without_receipt_is_accepted(live_service: LiveService) -> None:
    """Any OpenID4VP wallet (no view receipt): verified alone; the result names no view."""
    live = live_service
    rid = _create(live)["request_id"]
    _, claims = _request_object(live, rid)
    body = {
        "vp_token": json.dumps({"residency": [_hand_made(live, claims)]}),
        "state": claims["state"],
    }
    assert live.client.post(f"/verifier/v1/responses/{rid}", data=body).status_code == 200
    result = _result(live, rid)
    assert result["claims"] == RESIDENCY_CLAIMS
    assert "view" not in result


def test_missing_query_answer_is_refused(live_service: LiveService) -> None:
    """Two Credential Queries asked, one answered: 403 query_not_answered."""
    live = live_service
    residency = credential_type("ResidencyCredential").vct
    income = credential_type("IncomeCredential").vct
    query = {
        "credentials": [
            {
                "id": "residency",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [residency]},
                "claims": [{"path": ["address", "district"]}, {"path": ["ageOver19"]}],
            },
            {
                "id": "income",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [income]},
                "claims": [{"path": ["householdSize"]}],
            },
        ]
    }
    rid = _create(live, dcql_query=query)["request_id"]
    _, claims = _request_object(live, rid)
    body = {
        "vp_token": json.dumps({"residency": [_hand_made(live, claims)]}),
        "state": claims["state"],
    }
    response = live.client.post(f"/verifier/v1/responses/{rid}", data=body)
    assert problem(response, 403, "query_not_answered")["details"] == {"query": "income"}


@pytest.mark.parametrize(
    "vp_token", ["{not json", '["a~"]', '{"residency": "a~"}', '{"residency": ["a~", "b~"]}']
)
def test_malformed_vp_token_is_refused(live_service: LiveService, vp_token: str) -> None:
    """400 malformed; the request still waits for a real answer."""
    live = live_service
    rid = _create(live)["request_id"]
    _, claims = _request_object(live, rid)
    body = {"vp_token": vp_token, "state": claims["state"]}
    problem(live.client.post(f"/verifier/v1/responses/{rid}", data=body), 400, "malformed")
    assert _result(live, rid)["status"] == "pending"


def test_oversized_response_is_refused(live_service: LiveService) -> None:
    """A body past max_body_bytes: 413 too_large before it is read."""
    live = live_service
    rid = _create(live)["request_id"]
    body = {"vp_token": "x" * (live.config.max_body_bytes + 1), "state": "s"}
    problem(live.client.post(f"/verifier/v1/responses/{rid}", data=body), 413, "too_large")


def test_wallet_error_response_completes_the_request(live_service: LiveService) -> None:
    """An Authorization Error Response (error, state): 200, and the result names it."""
    live = live_service
    rid = _create(live)["request_id"]
    _, claims = _request_object(live, rid)
    body = {"error": "access_denied", "state": claims["state"]}
    assert live.client.post(f"/verifier/v1/responses/{rid}", data=body).json() == {}
    result = _result(live, rid)
    assert (result["status"], result["error"]) == (
        "failed",
        {"code": "access_denied", "source": "wallet"},
    )


def test_result_needs_the_agency_token(live_service: LiveService) -> None:
    """No token or a wrong one: 401 unauthorized; creating needs it too."""
    live = live_service
    rid = _create(live)["request_id"]
    path = f"/verifier/v1/requests/{rid}/result"
    problem(live.client.get(path), 401, "unauthorized")
    problem(live.client.get(path, headers={"authorization": "Bearer nope"}), 401, "unauthorized")
    problem(live.client.get(path, headers=live.agency("issuer")), 401, "unauthorized")
    body = {"purpose": "p", "preset": "residency_district"}
    problem(live.client.post("/verifier/v1/requests", json=body), 401, "unauthorized")


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "p"},
        {"purpose": "p", "preset": "residency_district", "dcql_query": {"credentials": []}},
        {"purpose": "p", "preset": "no_such_preset"},
        {"purpose": "", "preset": "residency_district"},
        {"purpose": "p", "preset": "residency_district", "expires_in": 5},
        {"purpose": "p", "preset": "residency_district", "extra": 1},
        {"purpose": "p", "dcql_query": {"credentials": [{"id": "a", "format": "mso_mdoc"}]}},
    ],
)
def test_bad_create_bodies_are_refused(live_service: LiveService, body: dict[str, Any]) -> None:
    """400 malformed for every body outside the documented shape."""
    response = live_service.client.post(
        "/verifier/v1/requests", json=body, headers=live_service.agency("verifier")
    )
    problem(response, 400, "malformed")


def test_wrong_pin_fetches_nothing(live_service: LiveService) -> None:
    """A wrong PIN is refused before the request object is fetched or anything is spent."""
    live = live_service
    wallet = _citizen(live)
    created = _create(live)
    response = live.client.post(
        "/wallet/v1/presentations",
        json={"authorization_request": created["authorization_request"]},
        headers=basic(wallet.id, "000000"),
    )
    assert response.json()["code"] == "unlock_failed"
    assert _result(live, created["request_id"])["status"] == "pending"
    assert [e.kind for e in wallet.history(PIN)] == ["credential_received"]


def test_wallet_presentations_need_credentials_before_the_body(live_service: LiveService) -> None:
    """Without Basic credentials the answer is 401 whatever the body, as on every citizen act."""
    live = live_service
    for body in ({"authorization_request": "x", "pin": "1"}, {"claims": []}):
        response = live.client.post("/wallet/v1/presentations", json=body)
        assert problem(response, 401, "unauthorized")["details"] == {"scheme": "Basic"}


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3Ax", "malformed"),
        ("https://wallet.example/?request_uri=https://x/r", "malformed"),
    ],
)
def test_wallet_refuses_requests_not_by_reference(
    live_service: LiveService, url: str, code: str
) -> None:
    """400: only signed requests by reference (openid4vp://, client_id, request_uri)."""
    live = live_service
    wallet = _citizen(live)
    response = live.client.post(
        "/wallet/v1/presentations",
        json={"authorization_request": url},
        headers=basic(wallet.id, PIN),
    )
    problem(response, 400, code)


def test_wallet_refuses_an_object_of_another_client_id(live_service: LiveService) -> None:
    """The URL's client_id must be the object's (§5.10.1): 422 did_mismatch, nothing spent."""
    live = live_service
    wallet = _citizen(live)
    created = _create(live)
    url = created["authorization_request"].replace(
        "client_id=decentralized_identifier", "client_id=decentralized_identifier%3Adid%3Akey%3Az"
    )
    response = live.client.post(
        "/wallet/v1/presentations",
        json={"authorization_request": url},
        headers=basic(wallet.id, PIN),
    )
    problem(response, 422, "did_mismatch")
    assert _result(live, created["request_id"])["status"] == "pending"


def test_openapi_describes_the_verifier_operations(live_service: LiveService) -> None:
    """Each verifier and wallet-presentation operation is documented with its problems."""
    paths = live_service.client.get("/openapi.json").json()["paths"]
    expected = {
        ("/verifier/v1/requests", "post"): {"201", "400", "401", "413"},
        ("/verifier/v1/requests/{rid}/object", "get"): {"200", "404", "409", "422"},
        ("/verifier/v1/responses/{rid}", "post"): {"200", "400", "404", "409", "413", "422"},
        ("/verifier/v1/requests/{rid}/result", "get"): {"200", "401", "404"},
        ("/wallet/v1/presentations", "post"): {"200", "400", "401", "409", "422", "429"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), path


def test_without_the_verifier_role_there_are_no_verifier_routes(
    start_service: Callable[..., LiveService],
) -> None:
    """A deployment without "verifier" serves none of its routes (404), documents none."""
    live = start_service("noverifier", verifier=None)
    body = {"purpose": "p", "preset": "residency_district"}
    problem(live.client.post("/verifier/v1/requests", json=body), 404, "not_found")
    paths = live.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/verifier/")]
    assert "/wallet/v1/presentations" in paths


def test_postgresql_verifier_flow(
    start_service: Callable[..., LiveService], pg_schema_url: str
) -> None:
    """The whole flow with every room in PostgreSQL schemas <prefix>_<room> (dropped after)."""
    import psycopg

    dsn, _, query = pg_schema_url.partition("?")
    prefix = next(p for p in query.split("&") if p.startswith("schema=")).removeprefix("schema=")
    try:
        live = start_service("pg", database=pg_schema_url, data_dir=None)
        assert live.config.stores["service"].endswith(f"schema={prefix}_service")
        _flow(live)
        rid = _create(live)["request_id"]
        body = _consented_form(live, _citizen(live), rid)
        assert live.client.post(f"/verifier/v1/responses/{rid}", data=body).status_code == 200
        response = live.client.post(f"/verifier/v1/responses/{rid}", data=body)
        problem(response, 409, "already_answered")
    finally:
        rest = "&".join(p for p in query.split("&") if not p.startswith("schema="))
        with psycopg.connect(f"{dsn}?{rest}" if rest else dsn, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            for room in ("ledger", "wallet", "status", "service"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}_{room}" CASCADE')
