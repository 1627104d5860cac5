"""The OpenID4VCI issuer on a live server, and the Citizen Card backend accepting its offers.

Offers, token, nonce, credential, status lists served and checked over HTTPS.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from live_service import LiveService, basic, problem, run_service

from https_server import LocalCA, ServerState
from seoul_vc._encoding import b64url_encode
from seoul_vc.credentials import StatusSource, VerificationReport, Verifier, present
from seoul_vc.credentials.issuer import did_of
from seoul_vc.credentials.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    CredentialIssuerMetadata,
    CredentialOffer,
    format_key_proof,
    parse_credential_offer,
)
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.jose import encode_jwt, parse_compact
from seoul_vc.keys import PrivateKey
from seoul_vc.status import HTTPSSource, StatusChecker

PIN = "739155"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, local_ca: LocalCA) -> Iterator[LiveService]:
    """One service with every role for the module (each test makes its own offers)."""
    with run_service(tmp_path_factory.mktemp("issuer"), local_ca) as service:
        yield service


# -- helpers --------------------------------------------------------------------------------------


def _offer(
    live: LiveService,
    configuration: str = "IncomeCredential",
    *,
    tx_code: bool = False,
    expires_in: int | None = None,
    subject: dict[str, Any] | None = None,
) -> dict[str, Any]:
    kind = "residency" if configuration.startswith("Residency") else "income"
    body: dict[str, Any] = {
        "credential_configuration_id": configuration,
        "subject": subject if subject is not None else example_subject(kind),
        "tx_code": tx_code,
    }
    if expires_in is not None:
        body["expires_in"] = expires_in
    response = live.client.post("/issuer/v1/offers", json=body, headers=live.agency("issuer"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _code(created: dict[str, Any]) -> str:
    grant = created["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]
    return str(grant["pre-authorized_code"])


def _token_request(live: LiveService, code: str, tx_code: str | None = None) -> httpx.Response:
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return live.client.post("/token", data=form)


def _access_token(live: LiveService, created: dict[str, Any]) -> str:
    response = _token_request(live, _code(created), created.get("tx_code"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    return str(body["access_token"])


def _nonce(live: LiveService) -> str:
    response = live.client.post("/nonce")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["c_nonce"])


def _credential_request(
    live: LiveService, access_token: str | None, body: dict[str, Any]
) -> httpx.Response:
    headers = {} if access_token is None else {"authorization": f"Bearer {access_token}"}
    return live.client.post("/credential", json=body, headers=headers)


def _proof(live: LiveService, holder: PrivateKey, nonce: str | None = None) -> str:
    return format_key_proof(
        holder, audience=live.url, nonce=nonce or _nonce(live), iat=int(time.time())
    )


def _oauth(response: httpx.Response, status: int, error: str, code: str | None = None) -> Any:
    """Assert an OAuth 2.0 / OpenID4VCI error answer; return its details."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    if code is not None:
        assert body["code"] == code
    return body["details"]


def _issue(live: LiveService, configuration: str, holder: PrivateKey) -> tuple[str, str]:
    """Run the whole protocol as a wallet would; return the offer id and the credential."""
    created = _offer(live, configuration)
    access_token = _access_token(live, created)
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": [_proof(live, holder)]}}
    response = _credential_request(live, access_token, body)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    credentials = response.json()["credentials"]
    assert len(credentials) == 1
    return str(created["offer_id"]), str(credentials[0]["credential"])


@contextmanager
def _fresh_checker(live: LiveService) -> Iterator[StatusChecker]:
    """A verifier's status checker that has never fetched a list (no cached version)."""
    source = HTTPSSource(live.service.network.fetcher())
    try:
        yield StatusChecker(source=source, resolver=live.service.resolver)
    finally:
        source.close()


def _verify(
    live: LiveService, credential: str, holder: PrivateKey, status: StatusSource
) -> VerificationReport:
    """A receiving agency's check of the holder's presentation of ``credential``."""
    verifier = Verifier(trust=live.service.trust, resolver=live.service.resolver, status=status)
    nonce = verifier.new_nonce()
    disclose = [] if "~" not in credential else ["incomeBracketPercent"]
    shown = present(
        credential, holder, disclose=disclose, aud="https://agency.example", nonce=nonce
    )
    return verifier.check(shown, aud="https://agency.example", nonce=nonce)


def _payload(token: str) -> dict[str, Any]:
    return dict(json.loads(parse_compact(token.split("~")[0]).payload))


# -- metadata -------------------------------------------------------------------------------------


def test_metadata_documents_describe_the_issuer(live: LiveService) -> None:
    """The three well-known documents name public_url and the service's endpoints and key."""
    issuer = live.client.get("/.well-known/openid-credential-issuer")
    assert issuer.status_code == 200
    metadata = CredentialIssuerMetadata.from_json(issuer.json(), expected_issuer=live.url)
    assert metadata.credential_endpoint == live.url + "/credential"
    assert metadata.nonce_endpoint == live.url + "/nonce"
    residency = metadata.configurations["ResidencyCredential"]
    assert (residency.format, residency.binding_methods) == ("dc+sd-jwt", ("jwk",))
    assert residency.vct == "https://schemas.seoul-vc.example/credentials/residency/v1"
    assert "ES256" in residency.proof_algs
    assert metadata.configurations["ResidencyCredential_vc+jwt"].format == "vc+jwt"
    server = live.client.get("/.well-known/oauth-authorization-server").json()
    assert server["issuer"] == live.url
    assert server["token_endpoint"] == live.url + "/token"
    assert server["grant_types_supported"] == [PRE_AUTHORIZED_GRANT]
    assert server["pre-authorized_grant_anonymous_access_supported"] is True
    vc_issuer = live.client.get("/.well-known/jwt-vc-issuer").json()
    assert vc_issuer["issuer"] == live.url
    assert vc_issuer["jwks"]["keys"][0]["kid"] == live.service.kid("issuer-1")


# -- the whole flow, into the wallet --------------------------------------------------------------


@pytest.mark.parametrize("tx_code", [False, True], ids=["without-tx_code", "with-tx_code"])
def test_offer_is_accepted_into_a_wallet(live: LiveService, tx_code: bool) -> None:
    """Agency offer -> Citizen Card backend: metadata, token, nonce, proof, credential, receive."""
    wallets = live.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    created = _offer(live, "ResidencyCredential", tx_code=tx_code)
    assert created["offer_uri"].startswith("openid-credential-offer://?credential_offer=")
    assert ("tx_code" in created) is tx_code
    body: dict[str, Any] = {"offer": created["offer_uri"]}
    if tx_code:
        body["tx_code"] = created["tx_code"]
    response = live.client.post("/wallet/v1/offers", json=body, headers=basic(wallet.id, PIN))
    assert response.status_code == 200, response.text
    (held,) = response.json()["credentials"]
    assert held["type"] == "ResidencyCredential"
    assert held["issuer"] == live.service.did
    shown = wallets.show(wallet.id, PIN, held["id"])
    assert shown["claims"]["address"]["district"] == "마포구"
    state = live.client.get(
        f"/issuer/v1/offers/{created['offer_id']}", headers=live.agency("issuer")
    ).json()
    assert state["state"] == "issued"
    assert set(state["status"]["status_list"]) == {"idx", "uri"}


def test_wallet_refuses_a_wrong_or_missing_transaction_code(live: LiveService) -> None:
    """A wrong code is the issuer's invalid_grant; a missing one never leaves the wallet."""
    wallets = live.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    created = _offer(live, tx_code=True)
    wrong = "0" * 6 if created["tx_code"] != "0" * 6 else "1" * 6
    answer = live.client.post(
        "/wallet/v1/offers",
        json={"offer": created["offer_uri"], "tx_code": wrong},
        headers=basic(wallet.id, PIN),
    )
    assert problem(answer, 403, "invalid_grant")["details"]["issuer_error"] == "invalid_grant"
    answer = live.client.post(
        "/wallet/v1/offers", json={"offer": created["offer_uri"]}, headers=basic(wallet.id, PIN)
    )
    problem(answer, 400, "bad_argument")
    answer = live.client.post(
        "/wallet/v1/offers",
        json={"offer": created["offer_uri"], "tx_code": created["tx_code"]},
        headers=basic(wallet.id, "000000" if PIN != "000000" else "111111"),
    )
    assert answer.status_code in (401, 403)
    assert answer.json()["code"] == "unlock_failed"
    # The wrong PIN was refused before the code was spent: the right PIN still works.
    answer = live.client.post(
        "/wallet/v1/offers",
        json={"offer": created["offer_uri"], "tx_code": created["tx_code"]},
        headers=basic(wallet.id, PIN),
    )
    assert answer.status_code == 200, answer.text


def _fake_offer(origin: str, code: str = "code-1") -> dict[str, Any]:
    return CredentialOffer(
        credential_issuer=origin,
        credential_configuration_ids=("IncomeCredential",),
        pre_authorized_code=code,
    ).to_json()


def _accept(live: LiveService, wallet_id: str, offer: str) -> httpx.Response:
    return live.client.post(
        "/wallet/v1/offers", json={"offer": offer}, headers=basic(wallet_id, PIN)
    )


def test_wallet_refuses_an_issuer_it_does_not_trust(
    live: LiveService, start_service: Callable[..., LiveService]
) -> None:
    """§13.6.2: an untrusted issuer's offer is refused before its code is spent."""
    # The wallet is the short-lived service: it closes its keep-alive connections to the
    # issuer before its own server stops (the other way round, the issuer's graceful
    # shutdown waited 10 s for the wallet's idle TLS connection).
    other = start_service("other-agency")
    wallets = other.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    created = _offer(live, tx_code=True)
    answer = other.client.post(
        "/wallet/v1/offers",
        json={"offer": created["offer_uri"], "tx_code": created["tx_code"]},
        headers=basic(wallet.id, PIN),
    )
    problem(answer, 403, "untrusted_issuer")
    state = live.client.get(
        f"/issuer/v1/offers/{created['offer_id']}", headers=live.agency("issuer")
    )
    assert state.json()["state"] == "offered"


def test_wallet_refuses_metadata_of_another_issuer(live: LiveService, server: ServerState) -> None:
    """§12.2.4: metadata whose credential_issuer is not the offer's is not used."""
    wallets = live.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    origin = f"https://localhost:{server.port}"
    metadata = json.loads(live.client.get("/.well-known/openid-credential-issuer").text)
    server.serve(
        "/.well-known/openid-credential-issuer",
        body=json.dumps(metadata).encode(),  # names the live issuer, not this origin
        Content_Type="application/json",
    )
    offer = "openid-credential-offer://?credential_offer=" + quote(json.dumps(_fake_offer(origin)))
    problem(_accept(live, wallet.id, offer), 422, "issuer_mismatch")
    assert server.requests == ["/.well-known/openid-credential-issuer"]


def test_wallet_needs_anonymous_pre_authorized_access(
    live: LiveService, start_service: Callable[..., LiveService], server: ServerState
) -> None:
    """§12.3: without anonymous access the wallet (which has no client_id) stops."""
    origin = f"https://localhost:{server.port}"
    trust = {
        "issuers": [{"id": f"did:web:localhost%3A{server.port}", "types": ["IncomeCredential"]}]
    }
    citizen = start_service("citizen-card", trust=trust)
    wallets = citizen.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    metadata = json.loads(live.client.get("/.well-known/openid-credential-issuer").text)
    metadata["credential_issuer"] = origin
    server.serve(
        "/.well-known/openid-credential-issuer",
        body=json.dumps(metadata).encode(),
        Content_Type="application/json",
    )
    server.serve(
        "/.well-known/oauth-authorization-server",
        body=json.dumps({"issuer": origin, "token_endpoint": origin + "/token",
                         "grant_types_supported": [PRE_AUTHORIZED_GRANT]}).encode(),
        Content_Type="application/json",
    )  # fmt: skip
    answer = _accept(citizen, wallet.id, json.dumps(_fake_offer(origin)))
    problem(answer, 403, "credential_request_denied")
    assert server.requests == [
        "/.well-known/openid-credential-issuer",
        "/.well-known/oauth-authorization-server",
    ]


def test_wallet_fetches_an_offer_by_reference(live: LiveService, server: ServerState) -> None:
    """§4.1.3: credential_offer_uri is fetched as application/json, then the flow runs."""
    wallets = live.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    created = _offer(live)
    server.serve(
        "/offers/1",
        body=json.dumps(created["credential_offer"]).encode(),
        Content_Type="application/json",
    )
    reference = quote(f"https://localhost:{server.port}/offers/1", safe="")
    answer = _accept(
        live, wallet.id, f"openid-credential-offer://?credential_offer_uri={reference}"
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["credentials"][0]["type"] == "IncomeCredential"
    server.serve("/offers/2", body=b"{}", Content_Type="text/html")
    reference = quote(f"https://localhost:{server.port}/offers/2", safe="")
    answer = _accept(
        live, wallet.id, f"openid-credential-offer://?credential_offer_uri={reference}"
    )
    problem(answer, 400, "malformed")


def test_wrong_pin_fetches_nothing_and_reveals_nothing(
    live: LiveService, server: ServerState
) -> None:
    """The PIN is checked before any fetch: no offer by reference, metadata or nonce request.

    A caller holding only a wallet id (agencies are given them) cannot make the service
    fetch URLs, nor tell the wallet exists: a garbage offer answers as an unknown id does.
    """
    wallets = live.service.wallets
    assert wallets is not None
    created = _offer(live)
    server.serve(
        "/offers/wrong-pin",
        body=json.dumps(created["credential_offer"]).encode(),
        Content_Type="application/json",
    )
    reference = quote(f"https://localhost:{server.port}/offers/wrong-pin", safe="")
    by_reference = f"openid-credential-offer://?credential_offer_uri={reference}"
    wrong = "000000" if PIN != "000000" else "111111"
    for offer in (by_reference, created["offer_uri"], "not an offer"):
        wallet = wallets.create(PIN)  # one wrong PIN each: no per-wallet wait
        answer = live.client.post(
            "/wallet/v1/offers", json={"offer": offer}, headers=basic(wallet.id, wrong)
        )
        problem(answer, 401, "unlock_failed")
    assert server.requests == []
    unknown = live.client.post(
        "/wallet/v1/offers",
        json={"offer": "not an offer"},
        headers=basic(secrets.token_urlsafe(12), wrong),
    )
    problem(unknown, 401, "unlock_failed")
    state = live.client.get(
        f"/issuer/v1/offers/{created['offer_id']}", headers=live.agency("issuer")
    )
    assert state.json()["state"] == "offered"


def test_wallet_endpoint_refuses_garbage_offers(live: LiveService) -> None:
    """Offers that do not parse are 400; an unknown member in the body too; no credentials."""
    wallets = live.service.wallets
    assert wallets is not None
    wallet = wallets.create(PIN)
    problem(_accept(live, wallet.id, "not an offer"), 400, "malformed")
    problem(_accept(live, wallet.id, '{"credential_issuer": "http://x.example"}'), 403,
             "insecure_transport")  # fmt: skip
    answer = live.client.post(
        "/wallet/v1/offers", json={"offer": "x", "pin": "1"}, headers=basic(wallet.id, PIN)
    )
    problem(answer, 400, "malformed")
    problem(live.client.post("/wallet/v1/offers", json={"offer": "x"}), 401, "unauthorized")
    assert wallets.credentials(wallet.id, PIN) == []


# -- status: revoke over the agency endpoint, serve, check ---------------------------------------


def test_revoked_credential_fails_with_revoked(start_service: Callable[..., LiveService]) -> None:
    """Revoke + publish over HTTP; the service's status checker then fetches and sees revoked.

    A service of its own: ``service.status`` caches a list for its ttl (the served max-age),
    so one that fetched this list before would see the revocation only after 300 s.
    """
    live = start_service("revocation")
    holder = PrivateKey.generate("ES256")
    offer_id, credential = _issue(live, "IncomeCredential", holder)
    with _fresh_checker(live) as checker:
        assert _verify(live, credential, holder, checker).error is None
    agency = live.agency("issuer")
    revoked = live.client.post(
        "/issuer/v1/status/revoke", json={"offer_id": offer_id}, headers=agency
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"status": "revoked"}
    published = live.client.post("/issuer/v1/status/publish", headers=agency)
    assert published.status_code == 200, published.text
    assert published.json()["published"][0]["receipt"]["index"] >= 1
    report = _verify(live, credential, holder, live.service.status)
    assert report.error is not None
    assert report.error.code.value == "revoked"
    uri = _payload(credential)["status"]["status_list"]["uri"]
    served = live.client.get(uri.removeprefix(live.url))
    assert served.headers["content-type"] == "application/statuslist+jwt"
    ttl = _payload(served.text)["ttl"]
    assert served.headers["cache-control"] == f"public, max-age={ttl}"
    assert ttl == 300


def test_vc_jwt_profile_binds_the_holder_did_and_uses_bitstring_lists(live: LiveService) -> None:
    """ResidencyCredential_vc+jwt: credentialSubject.id is the proven key's DID; suspension."""
    holder = PrivateKey.generate("EdDSA")
    offer_id, credential = _issue(live, "ResidencyCredential_vc+jwt", holder)
    header = parse_compact(credential).header
    assert (header["typ"], header["kid"]) == ("vc+jwt", live.service.kid("issuer-1"))
    document = _payload(credential)
    assert document["credentialSubject"]["id"] == did_of(holder.public_key)
    assert document["issuer"] == live.service.did
    with _fresh_checker(live) as checker:
        assert _verify(live, credential, holder, checker).error is None
    agency = live.agency("issuer")
    claim = document["credentialStatus"]
    answer = live.client.post("/issuer/v1/status/suspend", json={"status": claim}, headers=agency)
    assert answer.json() == {"status": "suspended"}
    assert live.client.post("/issuer/v1/status/publish", headers=agency).status_code == 200
    with _fresh_checker(live) as checker:
        report = _verify(live, credential, holder, checker)
    assert report.error is not None
    assert report.error.code.value == "suspended"
    served = live.client.get(claim[1]["statusListCredential"].removeprefix(live.url))
    assert served.headers["content-type"] == "application/vc+jwt"
    answer = live.client.post(
        "/issuer/v1/status/reinstate", json={"offer_id": offer_id}, headers=agency
    )
    assert answer.json() == {"status": "valid"}
    live.client.post("/issuer/v1/status/revoke", json={"offer_id": offer_id}, headers=agency)
    answer = live.client.post(
        "/issuer/v1/status/reinstate", json={"offer_id": offer_id}, headers=agency
    )
    problem(answer, 409, "conflict")


def test_status_endpoints_refuse_unknown_things(live: LiveService) -> None:
    """Unknown lists and offers are 404; an agency call without its token is 401."""
    problem(live.client.get("/status/0123456789abcdef/status"), 404, "not_found")
    problem(live.client.get("/status/nothex/status"), 404, "not_found")
    agency = live.agency("issuer")
    unknown = {"offer_id": "0" * 24}
    problem(live.client.post("/issuer/v1/status/revoke", json=unknown, headers=agency), 404,
             "not_found")  # fmt: skip
    problem(live.client.post("/issuer/v1/status/revoke", json=unknown), 401, "unauthorized")
    both = {"offer_id": "0" * 24, "status": {}}
    problem(live.client.post("/issuer/v1/status/revoke", json=both, headers=agency), 400,
             "malformed")  # fmt: skip
    problem(live.client.get("/issuer/v1/offers/" + "0" * 24, headers=agency), 404, "not_found")


# -- offers: agency input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"credential_configuration_id": "PassportCredential", "subject": {}}, 404,
         "unknown_credential_configuration"),
        ({"credential_configuration_id": "IncomeCredential", "subject": {"x": 1}}, 400,
         "schema_violation"),
        ({"credential_configuration_id": "IncomeCredential",
          "subject": {**example_subject("income"), "id": "did:example:1"}}, 400, "bad_argument"),
        ({"credential_configuration_id": "IncomeCredential", "subject": {}, "extra": 1}, 400,
         "malformed"),
        ({"credential_configuration_id": "IncomeCredential",
          "subject": example_subject("income"), "expires_in": 0}, 400, "malformed"),
    ],
    ids=["unknown-configuration", "schema", "subject-id", "unknown-member", "expires_in"],
)  # fmt: skip
def test_offer_requests_are_checked(
    live: LiveService, body: dict[str, Any], status: int, code: str
) -> None:
    """The agency learns at once that an offer could never be issued."""
    answer = live.client.post("/issuer/v1/offers", json=body, headers=live.agency("issuer"))
    problem(answer, status, code)


def test_offers_need_the_issuer_token(live: LiveService) -> None:
    """No token or a verifier's token: 401."""
    body = {"credential_configuration_id": "IncomeCredential", "subject": {}}
    problem(live.client.post("/issuer/v1/offers", json=body), 401, "unauthorized")
    wrong = {"authorization": "Bearer not-the-token"}
    problem(live.client.post("/issuer/v1/offers", json=body, headers=wrong), 401, "unauthorized")


# -- token endpoint -------------------------------------------------------------------------------


def test_pre_authorized_code_is_single_use(live: LiveService) -> None:
    """A second redemption is invalid_grant and revokes the token the first one gave."""
    created = _offer(live)
    access_token = _access_token(live, created)
    details = _oauth(_token_request(live, _code(created)), 400, "invalid_grant", "invalid_grant")
    assert details["reason"] == "used"
    body = {"credential_configuration_id": "IncomeCredential",
            "proofs": {"jwt": [_proof(live, PrivateKey.generate("ES256"))]}}  # fmt: skip
    _oauth(_credential_request(live, access_token, body), 401, "invalid_token", "unauthorized")


def test_wrong_transaction_codes_exhaust_the_offer(live: LiveService) -> None:
    """Four wrong codes leave one try; the fifth invalidates the code, even for the right one."""
    created = _offer(live, tx_code=True)
    code, right = _code(created), created["tx_code"]
    wrong = "999999" if right != "999999" else "111111"
    _oauth(_token_request(live, code), 400, "invalid_request", "malformed")
    for _ in range(4):
        details = _oauth(_token_request(live, code, wrong), 400, "invalid_grant")
        assert details["reason"] == "tx_code"
    details = _oauth(_token_request(live, code, wrong), 400, "invalid_grant")
    assert details["reason"] == "tx_code_exhausted"
    details = _oauth(_token_request(live, code, right), 400, "invalid_grant")
    assert details["reason"] == "used"
    state = live.client.get(
        f"/issuer/v1/offers/{created['offer_id']}", headers=live.agency("issuer")
    )
    assert state.json()["state"] == "invalidated"


def test_transaction_code_where_none_was_offered_is_invalid_request(live: LiveService) -> None:
    """§6.3: an unexpected tx_code is invalid_request; the code stays usable."""
    created = _offer(live)
    _oauth(_token_request(live, _code(created), "123456"), 400, "invalid_request", "malformed")
    assert _token_request(live, _code(created)).status_code == 200


def test_expired_pre_authorized_code_is_invalid_grant(live: LiveService) -> None:
    """An offer of one second is refused two seconds later."""
    created = _offer(live, expires_in=1)
    time.sleep(2.1)
    details = _oauth(_token_request(live, _code(created)), 400, "invalid_grant")
    assert details["reason"] == "expired"
    state = live.client.get(
        f"/issuer/v1/offers/{created['offer_id']}", headers=live.agency("issuer")
    )
    assert state.json()["state"] == "expired"


def test_unknown_code_and_grant_types(live: LiveService) -> None:
    """Unknown codes: invalid_grant; other grants: unsupported_grant_type; none: invalid_request."""
    details = _oauth(_token_request(live, secrets.token_urlsafe(32)), 400, "invalid_grant")
    assert details["reason"] == "unknown"
    answer = live.client.post("/token", data={"grant_type": "authorization_code", "code": "x"})
    _oauth(answer, 400, "unsupported_grant_type", "unsupported_grant_type")
    _oauth(live.client.post("/token", data={"pre-authorized_code": "x"}), 400, "invalid_request")


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"grant_type=a&grant_type=b", "application/x-www-form-urlencoded", "malformed"),
        (b"grant_type=%zz", "application/x-www-form-urlencoded", "invalid_encoding"),
        (b"grant_type=%e9", "application/x-www-form-urlencoded", "invalid_encoding"),
        (b'{"grant_type": "x"}', "application/json", "malformed"),
    ],
    ids=["repeated", "bad-escape", "not-utf8", "json"],
)
def test_malformed_token_forms_are_invalid_request(
    live: LiveService, content: bytes, content_type: str, code: str
) -> None:
    """RFC 6749 §3.1: repeated parameters and bad encodings are refused, never a 500."""
    answer = live.client.post("/token", content=content, headers={"content-type": content_type})
    _oauth(answer, 400, "invalid_request", code)


# -- credential endpoint --------------------------------------------------------------------------


def _none_alg(live: LiveService, holder: PrivateKey) -> str:
    header = {"alg": "none", "typ": PROOF_TYP, "jwk": holder.public_key.to_jwk()}
    claims = {"aud": live.url, "iat": int(time.time()), "nonce": _nonce(live)}
    parts = [b64url_encode(json.dumps(part).encode()) for part in (header, claims)]
    return ".".join([*parts, ""])


def _custom(live: LiveService, holder: PrivateKey, **change: Any) -> str:
    """A proof with claims or header members changed (None deletes)."""
    claims: dict[str, Any] = {"aud": live.url, "iat": int(time.time()), "nonce": _nonce(live)}
    header: dict[str, Any] = {"jwk": holder.public_key.to_jwk()}
    typ = PROOF_TYP
    for name, value in change.items():
        if name == "typ":
            typ = value
        elif name in ("jwk", "kid", "x5c"):
            header[name] = value
        elif value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    header = {k: v for k, v in header.items() if v is not None}
    return encode_jwt(claims, holder, typ=typ, header=header)


_WEAK_ED25519 = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" + b"\x00" * 31)}


@pytest.mark.parametrize(
    ("make", "error", "reason"),
    [
        (lambda live, k: _custom(live, k, aud="https://elsewhere.example"), "invalid_proof",
         "audience_mismatch"),
        (lambda live, k: _custom(live, k, nonce=None), "invalid_proof", "nonce_missing"),
        (lambda live, k: _custom(live, k, nonce="forged-nonce"), "invalid_nonce", None),
        (lambda live, k: _custom(live, k, typ="JWT"), "invalid_proof", "wrong_type"),
        (lambda live, k: _none_alg(live, k), "invalid_proof", "unsupported_algorithm"),
        (lambda live, k: _custom(live, k, jwk=k.private_jwk()), "invalid_proof",
         "private_key_material"),
        (lambda live, k: _custom(live, k, jwk=_WEAK_ED25519), "invalid_proof", "weak_key"),
        (lambda live, k: _custom(live, k, jwk=None, kid="did:example:1#0"), "invalid_proof",
         "unsupported_header"),
        (lambda live, k: _custom(live, k, x5c=["MIIB"]), "invalid_proof", "unsupported_header"),
        (lambda live, k: _custom(live, k, iat=int(time.time()) - 3600), "invalid_proof",
         "expired"),
        (lambda live, k: _custom(live, k, iss="a-client"), "invalid_proof", "issuer_mismatch"),
        (lambda live, k: _custom(live, PrivateKey.generate("EdDSA"), jwk=k.public_key.to_jwk()),
         "invalid_proof", "invalid_signature"),
    ],
    ids=["aud", "no-nonce", "forged-nonce", "typ", "alg-none", "private-jwk", "small-order-key",
         "kid", "x5c", "stale-iat", "iss", "other-signer"],
)  # fmt: skip
def test_bad_key_proofs_are_refused(
    live: LiveService, make: Any, error: str, reason: str | None
) -> None:
    """Each broken proof gets its OpenID4VCI error, and leaves the access token usable."""
    created = _offer(live)
    access_token = _access_token(live, created)
    holder = PrivateKey.generate("EdDSA")
    body = {
        "credential_configuration_id": "IncomeCredential",
        "proofs": {"jwt": [make(live, holder)]},
    }
    details = _oauth(_credential_request(live, access_token, body), 400, error, error)
    if reason is not None:
        assert details["reason"] == reason
    good = {"credential_configuration_id": "IncomeCredential",
            "proofs": {"jwt": [_proof(live, holder)]}}  # fmt: skip
    assert _credential_request(live, access_token, good).status_code == 200


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"proofs": None}, "invalid_proof"),
        ({"proofs": {"di_vp": [{}]}}, "invalid_proof"),
        ({"proofs": "two"}, "invalid_proof"),
        ("two-proofs", "invalid_credential_request"),
        ({"credential_configuration_id": "PassportCredential"}, "unknown_credential_configuration"),
        ({"credential_configuration_id": "ResidencyCredential"}, "credential_request_denied"),
        ({"credential_identifier": "x"}, "invalid_credential_request"),
        ({"credential_configuration_id": None}, "invalid_credential_request"),
    ],
    ids=["no-proofs", "proof-type", "proofs-shape", "batch", "unknown-configuration",
         "not-offered", "credential_identifier", "no-configuration"],
)  # fmt: skip
def test_bad_credential_requests_are_refused(live: LiveService, change: Any, error: str) -> None:
    """Request errors of §8.3.1.2, each with its code."""
    created = _offer(live)
    access_token = _access_token(live, created)
    holder = PrivateKey.generate("ES256")
    body: dict[str, Any] = {"credential_configuration_id": "IncomeCredential",
                            "proofs": {"jwt": [_proof(live, holder)]}}  # fmt: skip
    if change == "two-proofs":
        body["proofs"]["jwt"].append(_proof(live, holder))
    else:
        for name, value in change.items():
            if value is None:
                body.pop(name)
            else:
                body[name] = value
    _oauth(_credential_request(live, access_token, body), 400, error)


def test_c_nonce_and_access_token_are_single_use(live: LiveService) -> None:
    """A used c_nonce is invalid_nonce for another offer; a spent token is invalid_token."""
    holder = PrivateKey.generate("ES256")
    nonce = _nonce(live)
    first = _access_token(live, _offer(live))
    body = {"credential_configuration_id": "IncomeCredential",
            "proofs": {"jwt": [_proof(live, holder, nonce)]}}  # fmt: skip
    assert _credential_request(live, first, body).status_code == 200
    _oauth(_credential_request(live, first, body), 401, "invalid_token", "unauthorized")
    second = _access_token(live, _offer(live))
    _oauth(_credential_request(live, second, body), 400, "invalid_nonce", "invalid_nonce")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer " + "A" * 43, "Basic abc", "Bearer", "Bearer a b"],
    ids=["none", "unknown", "basic", "empty", "two-words"],
)
def test_bad_bearer_tokens_are_invalid_token(live: LiveService, authorization: str | None) -> None:
    """RFC 6750 §3.1: 401 invalid_token with a Bearer challenge."""
    headers = {} if authorization is None else {"authorization": authorization}
    body = {"credential_configuration_id": "IncomeCredential", "proofs": {"jwt": ["x"]}}
    answer = live.client.post("/credential", json=body, headers=headers)
    _oauth(answer, 401, "invalid_token", "unauthorized")
    assert answer.headers["www-authenticate"].startswith('Bearer realm="seoul-vc"')
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


# -- PostgreSQL -----------------------------------------------------------------------------------


def test_flow_on_postgresql(start_service: Callable[..., LiveService], pg_schema_url: str) -> None:
    """The whole flow with every room in PostgreSQL schemas <prefix>_<room> (dropped after)."""
    import psycopg

    dsn, _, query = pg_schema_url.partition("?")
    prefix = next(p for p in query.split("&") if p.startswith("schema=")).removeprefix("schema=")
    try:
        service = start_service("pg", database=pg_schema_url, data_dir=None)
        wallets = service.service.wallets
        assert wallets is not None
        wallet = wallets.create(PIN)
        created = _offer(service, "ResidencyCredential", tx_code=True)
        answer = service.client.post(
            "/wallet/v1/offers",
            json={"offer": created["offer_uri"], "tx_code": created["tx_code"]},
            headers=basic(wallet.id, PIN),
        )
        assert answer.status_code == 200, answer.text
        _oauth(_token_request(service, _code(created), created["tx_code"]), 400, "invalid_grant")
        agency = service.agency("issuer")
        revoke = {"offer_id": created["offer_id"]}
        answer = service.client.post("/issuer/v1/status/revoke", json=revoke, headers=agency)
        assert answer.json() == {"status": "revoked"}
    finally:
        rest = "&".join(p for p in query.split("&") if not p.startswith("schema="))
        with psycopg.connect(f"{dsn}?{rest}" if rest else dsn, autocommit=True) as conn:
            for room in ("ledger", "wallet", "status", "service"):
                conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}_{room}" CASCADE')


def test_offer_uri_carries_the_offer_by_value(live: LiveService) -> None:
    """The offer URI parses back to the offer JSON the agency got (§4.1.2)."""
    created = _offer(live, tx_code=True)
    offer = parse_credential_offer(created["offer_uri"])
    assert offer.to_json() == created["credential_offer"]
    assert offer.tx_code is not None
    assert (offer.tx_code.input_mode, offer.tx_code.length) == ("numeric", 6)
