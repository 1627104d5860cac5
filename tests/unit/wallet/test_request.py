"""OpenID4VP 1.0 Request Objects with the DCQL subset: signed, bounded, strict."""

from __future__ import annotations

import base64
import json

import pytest

from seoul_vc import Code, PrivateKey, SeoulVCError
from seoul_vc.jose import encode_jwt
from seoul_vc.wallet import CredentialQuery, create_request, open_request
from seoul_vc.wallet.request import CLIENT_ID_PREFIX, REQUEST_TYP

NOW = 1767225600
QUERY = CredentialQuery(id="residency", vct_values=("https://v/residency",), claims=(("name",),))


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_request_round_trip_has_the_wire_members() -> None:
    """typ, client_id prefix, nonce, dcql_query, response_type, purpose, lifetime."""
    key = PrivateKey.generate("ES256")
    token = create_request(
        key, nonce="abcdefgh12", purpose="housing", credentials=(QUERY,), iat=NOW
    )
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == REQUEST_TYP
    claims = _payload(token)
    assert claims["response_type"] == "vp_token"
    assert str(claims["client_id"]).startswith(CLIENT_ID_PREFIX + "did:jwk:")
    assert claims["dcql_query"] == {
        "credentials": [
            {
                "id": "residency",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["https://v/residency"]},
                "claims": [{"path": ["name"]}],
            }
        ]
    }
    opened = open_request(token, now=NOW + 5)
    assert (opened.nonce, opened.purpose, opened.credentials) == ("abcdefgh12", "housing", (QUERY,))


def _signed(claims: dict[str, object], key: PrivateKey, kid: str | None = None) -> str:
    from seoul_vc.credentials.issuer import did_of, kid_of

    did = did_of(key.public_key)
    return encode_jwt(claims, key, typ=REQUEST_TYP, kid=kid or kid_of(did, key.public_key))  # type: ignore[arg-type]


def _claims(key: PrivateKey, **extra: object) -> dict[str, object]:
    from seoul_vc.credentials.issuer import did_of

    base: dict[str, object] = {
        "response_type": "vp_token",
        "client_id": CLIENT_ID_PREFIX + did_of(key.public_key),
        "nonce": "abcdefgh12",
        "purpose": "p",
        "dcql_query": {"credentials": [QUERY.to_json()]},
        "iat": NOW,
        "exp": NOW + 600,
    }
    base.update(extra)
    return base


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"exp": NOW - 3600}, Code.EXPIRED),
        ({"response_type": "code"}, Code.MALFORMED),
        ({"dcql_query": {"credentials": [QUERY.to_json()], "credential_sets": []}}, Code.MALFORMED),
        (
            {"dcql_query": {"credentials": [{**QUERY.to_json(), "claim_sets": [["a"]]}]}},
            Code.MALFORMED,
        ),
        ({"client_id": "redirect_uri:https://x.example"}, Code.MALFORMED),
    ],
)
def test_bad_requests_are_refused(change: dict[str, object], code: Code) -> None:
    """Expired, wrong response type, unsupported DCQL features, other client id prefixes."""
    key = PrivateKey.generate()
    with pytest.raises(SeoulVCError) as caught:
        open_request(_signed(_claims(key, **change), key), now=NOW)
    assert caught.value.code == code


def test_kid_of_another_did_is_refused() -> None:
    """The signing key must be one of the client_id DID's keys."""
    key, other = PrivateKey.generate(), PrivateKey.generate()
    from seoul_vc.credentials.issuer import did_of, kid_of

    token = _signed(_claims(key), other, kid=kid_of(did_of(other.public_key), other.public_key))
    with pytest.raises(SeoulVCError) as caught:
        open_request(token, now=NOW)
    assert caught.value.code == Code.DID_MISMATCH


def test_ids_never_start_with_a_dash() -> None:
    """Ids are typed on command lines, where a leading '-' would read as an option."""
    from seoul_vc.wallet.consent import new_consent_id, new_id

    assert all(not new_id(3).startswith("-") for _ in range(3000))
    assert all(len(new_consent_id()) == 22 for _ in range(100))
