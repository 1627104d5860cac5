"""SD-JWT VC issuer keys from JWT VC Issuer Metadata, against real HTTPS servers on loopback.

The URL rule and response rules are draft-ietf-oauth-sd-jwt-vc §4 (editor's copy of -19);
the fetch guard is seoul_vc._net. Servers come from the ``https_server`` plugin.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from https_server import LocalCA, ServerState
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer, TrustRegistry, Verifier, present, sd_jwt
from seoul_vc.credentials.issuer import V2_CONTEXT
from seoul_vc.credentials.metadata import (
    IssuerMetadataResolver,
    issuer_metadata_document,
    issuer_metadata_url,
)
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.credentials.types import credential_type
from seoul_vc.errors import SeoulVCError
from seoul_vc.jose import encode_jwt
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.limits import Limits
from seoul_vc_cli.app import app

WELL_KNOWN = "/.well-known/jwt-vc-issuer"
AUD = "https://welfare.seoul.example"
# The Ed25519 identity point (y = 1): a small-order key under which forgeries verify.
SMALL_ORDER_X = b64url_encode(b"\x01" + b"\x00" * 31)


def expect_code(code: str, fn: Callable[[], object]) -> None:
    with pytest.raises(SeoulVCError) as info:
        fn()
    assert info.value.code == code


def issuer_url(server: ServerState, path: str = "/agency") -> str:
    return f"https://localhost:{server.port}{path}"


def serve_json(server: ServerState, path: str, document: object, media: str = "") -> None:
    body = json.dumps(document).encode()
    server.serve(path, 200, body, Content_Type=media or "application/json")


def jwk(key: PublicKey, kid: str | None, **extra: str) -> dict[str, str]:
    out = {**key.to_jwk(), **extra}
    if kid is not None:
        out["kid"] = kid
    return out


@pytest.fixture
def make_resolver(local_ca: LocalCA) -> Iterator[Callable[..., IssuerMetadataResolver]]:
    """Build resolvers trusting the test CA (loopback allowed unless asked), closed after."""
    made: list[IssuerMetadataResolver] = []

    def make(
        *, unsafe_allow_private_addresses: bool = True, **kwargs: Any
    ) -> IssuerMetadataResolver:
        resolver = IssuerMetadataResolver(
            ssl_context=local_ca.client_context(),
            unsafe_allow_private_addresses=unsafe_allow_private_addresses,
            **kwargs,
        )
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()


@pytest.fixture
def resolver(make_resolver: Callable[..., IssuerMetadataResolver]) -> IssuerMetadataResolver:
    """A resolver that trusts the test CA and may connect to loopback."""
    return make_resolver()


@pytest.fixture(scope="module")
def agency_key() -> PrivateKey:
    """The issuing agency's signing key."""
    return PrivateKey.generate()


@pytest.fixture(scope="module")
def other_key() -> PrivateKey:
    """A second key of the agency (P-256)."""
    return PrivateKey.generate("ES256")


# -- the URL rule (draft §4, §4.1) ---------------------------------------------------------------

VALID_URLS = [
    ("https://example.com", "https://example.com/.well-known/jwt-vc-issuer"),
    ("https://example.com/", "https://example.com/.well-known/jwt-vc-issuer"),
    (
        "https://example.com/tenant/1234",
        "https://example.com/.well-known/jwt-vc-issuer/tenant/1234",
    ),
    (
        "https://example.com/tenant/1234/",
        "https://example.com/.well-known/jwt-vc-issuer/tenant/1234",
    ),
    ("https://example.com:8443", "https://example.com:8443/.well-known/jwt-vc-issuer"),
    ("https://example.com:8443/t/", "https://example.com:8443/.well-known/jwt-vc-issuer/t"),
    ("https://Seoul.Example/Agency", "https://Seoul.Example/.well-known/jwt-vc-issuer/Agency"),
    ("https://127.0.0.1:8443/x", "https://127.0.0.1:8443/.well-known/jwt-vc-issuer/x"),
    ("https://[2001:db8::1]/x", "https://[2001:db8::1]/.well-known/jwt-vc-issuer/x"),
    ("https://[2001:db8::1]:443", "https://[2001:db8::1]:443/.well-known/jwt-vc-issuer"),
    ("https://example.com/a%20b/~c", "https://example.com/.well-known/jwt-vc-issuer/a%20b/~c"),
    ("https://xn--9n2bp8q.example/x", "https://xn--9n2bp8q.example/.well-known/jwt-vc-issuer/x"),
]

INVALID_ISSUERS = [
    "https://example.com?x=1",  # no query (§4)
    "https://example.com/a?",
    "https://example.com/#frag",  # no fragment (§4)
    "https://user@example.com/x",  # no userinfo
    "https://user:pw@example.com",
    "https://example.com:0",
    "https://example.com:65536",
    "https://example.com:080",
    "https://example.com:",
    "https://example.com:x",
    "https://",
    "https:///x",
    "HTTPS://example.com",  # iss is case-sensitive; the scheme is spelt https
    "ftp://example.com",
    "example.com",
    "https://example.com/../x",
    "https://example.com/a/./b",
    "https://example.com/%2e%2E/x",
    "https://example.com/a//b",
    "https://example.com/a%2Fb",
    "https://example.com/a%3Fb",
    "https://example.com/a%00b",
    "https://example.com/a%zzb",
    "https://example.com/a\\b",
    "https://example.com/a b",
    "https://exa mple.com",
    "https://exämple.com",
    "https://127.1",
    "https://0x7f000001",
    "https://2130706433",
    "https://example.123",
    "https://[::1",
    "https://[zz]/x",
    "https://[::1]x",
    "https://[fe80::1%25eth0]/x",
    "https://ex%61mple.com",
    "https://-example.com",
    "https://example..com",
]


@pytest.mark.parametrize(("iss", "url"), VALID_URLS)
def test_well_known_url_is_inserted_between_host_and_path(iss: str, url: str) -> None:
    """The metadata URL follows §4.1: host, /.well-known/jwt-vc-issuer, path without final /."""
    assert issuer_metadata_url(iss) == url


@pytest.mark.parametrize("iss", INVALID_ISSUERS)
def test_invalid_issuer_identifiers_are_refused(iss: str) -> None:
    """Anything but an HTTPS URL of host, port and clean path is malformed."""
    expect_code("malformed", lambda: issuer_metadata_url(iss))


def test_http_issuer_is_insecure_transport() -> None:
    """An http: issuer is refused as insecure transport."""
    expect_code("insecure_transport", lambda: issuer_metadata_url("http://example.com/x"))


def test_overlong_issuer_is_too_large() -> None:
    """An issuer identifier past 2,048 characters is refused before any parsing."""
    expect_code("too_large", lambda: issuer_metadata_url("https://example.com/" + "a" * 2100))


# -- happy paths --------------------------------------------------------------------------------


def test_jwks_by_value_selects_the_key_by_kid(
    server: ServerState, resolver: IssuerMetadataResolver, agency_key: PrivateKey, other_key
) -> None:
    """With jwks, the JWS kid picks its key among several."""
    iss = issuer_url(server)
    keys = [jwk(agency_key.public_key, "k1"), jwk(other_key.public_key, "k2")]
    serve_json(server, WELL_KNOWN + "/agency", {"issuer": iss, "jwks": {"keys": keys}})
    assert resolver.issuer_key(iss, "k2") == other_key.public_key
    assert resolver(iss, "k1") == agency_key.public_key


def test_jwks_uri_is_fetched_with_the_same_guard(
    server: ServerState, other_server: ServerState, resolver, agency_key: PrivateKey
) -> None:
    """With jwks_uri, the JWK Set is fetched from that HTTPS URL (another origin is fine)."""
    iss = issuer_url(server)
    jwks_uri = f"https://localhost:{other_server.port}/keys.jwks"
    serve_json(server, WELL_KNOWN + "/agency", {"issuer": iss, "jwks_uri": jwks_uri})
    serve_json(
        other_server,
        "/keys.jwks",
        {"keys": [jwk(agency_key.public_key, "k1")]},
        "application/jwk-set+json",
    )
    metadata = resolver.metadata(iss)
    assert metadata.jwks_uri == jwks_uri
    assert metadata.key_for("k1") == agency_key.public_key
    assert other_server.requests == ["/keys.jwks"]


def test_root_issuer_is_fetched_from_the_bare_well_known_path(
    server: ServerState, resolver, agency_key: PrivateKey
) -> None:
    """An issuer without a path is fetched at /.well-known/jwt-vc-issuer."""
    iss = f"https://localhost:{server.port}"
    serve_json(
        server, WELL_KNOWN, {"issuer": iss, "jwks": {"keys": [jwk(agency_key.public_key, None)]}}
    )
    assert resolver.issuer_key(iss, None) == agency_key.public_key
    assert server.requests == [WELL_KNOWN]


def test_single_key_is_used_without_kid(server: ServerState, resolver, agency_key) -> None:
    """A token without kid is verified by the issuer's only key."""
    iss = issuer_url(server)
    serve_json(
        server,
        WELL_KNOWN + "/agency",
        {"issuer": iss, "jwks": {"keys": [jwk(agency_key.public_key, "k1")]}},
    )
    assert resolver.issuer_key(iss, None) == agency_key.public_key


def test_same_origin_redirect_is_followed(server: ServerState, resolver, agency_key) -> None:
    """A redirect within the origin is followed."""
    iss = issuer_url(server)
    server.serve(WELL_KNOWN + "/agency", 302, Location="/moved")
    serve_json(
        server, "/moved", {"issuer": iss, "jwks": {"keys": [jwk(agency_key.public_key, "k1")]}}
    )
    assert resolver.issuer_key(iss, "k1") == agency_key.public_key


def test_published_document_round_trips(
    server: ServerState, resolver, agency_key, other_key
) -> None:
    """issuer_metadata_document builds what the resolver accepts, kids and all."""
    iss = issuer_url(server, "/mois/residency")
    document = issuer_metadata_document(
        iss, {"a": agency_key.public_key, "b": other_key.public_key}
    )
    serve_json(server, WELL_KNOWN + "/mois/residency", document)
    assert resolver.issuer_key(iss, "a") == agency_key.public_key
    assert resolver.issuer_key(iss, "b") == other_key.public_key


# -- refusals -------------------------------------------------------------------------------------


def metadata_with(server: ServerState, document: dict[str, object]) -> str:
    iss = issuer_url(server)
    serve_json(server, WELL_KNOWN + "/agency", {"issuer": iss, **document})
    return iss


def test_issuer_mismatch_is_refused(server: ServerState, resolver, agency_key) -> None:
    """Metadata naming another issuer (even one trailing slash off) is not used (§4.3)."""
    iss = issuer_url(server)
    keys = {"keys": [jwk(agency_key.public_key, "k1")]}
    serve_json(server, WELL_KNOWN + "/agency", {"issuer": iss + "/", "jwks": keys})
    expect_code("issuer_mismatch", lambda: resolver.issuer_key(iss, "k1"))


def test_both_jwks_and_jwks_uri_are_refused(server: ServerState, resolver, agency_key) -> None:
    """Metadata with jwks and jwks_uri at once is malformed (§4.2)."""
    iss = metadata_with(
        server,
        {"jwks": {"keys": [jwk(agency_key.public_key, "k1")]}, "jwks_uri": "https://x.example/k"},
    )
    expect_code("malformed", lambda: resolver.issuer_key(iss, "k1"))


def test_neither_jwks_nor_jwks_uri_is_refused(server: ServerState, resolver) -> None:
    """Metadata without keys is malformed (§4.2)."""
    iss = metadata_with(server, {})
    expect_code("malformed", lambda: resolver.issuer_key(iss, None))


def test_missing_issuer_is_refused(server: ServerState, resolver, agency_key) -> None:
    """Metadata without an issuer string is malformed."""
    serve_json(
        server, WELL_KNOWN + "/agency", {"jwks": {"keys": [jwk(agency_key.public_key, "k1")]}}
    )
    expect_code("malformed", lambda: resolver.issuer_key(issuer_url(server), "k1"))


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"d": "AAAA"}, "private_key_material"),
        ({"use": "enc"}, "invalid_key"),
        ({"alg": "ES384"}, "invalid_key"),
        ({"x": "not-a-key"}, "invalid_encoding"),
    ],
)
def test_bad_key_refuses_the_whole_document(
    server: ServerState, resolver, agency_key, other_key, extra: dict[str, str], code: str
) -> None:
    """A private member, use other than sig, a foreign alg or a bad x spoil the whole set."""
    iss = metadata_with(
        server,
        {
            "jwks": {
                "keys": [jwk(other_key.public_key, "k2"), jwk(agency_key.public_key, "k1", **extra)]
            }
        },
    )
    expect_code(code, lambda: resolver.issuer_key(iss, "k2"))


def test_small_order_ed25519_key_is_refused(server: ServerState, resolver) -> None:
    """The Ed25519 identity point, under which anything verifies, is a weak key."""
    weak = {"kty": "OKP", "crv": "Ed25519", "x": SMALL_ORDER_X, "kid": "k1"}
    iss = metadata_with(server, {"jwks": {"keys": [weak]}})
    expect_code("weak_key", lambda: resolver.issuer_key(iss, "k1"))


def test_symmetric_key_is_private_material(server: ServerState, resolver, agency_key) -> None:
    """An oct key (a shared secret) is never ignored as an unknown type: it is refused."""
    oct_key = {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}
    iss = metadata_with(server, {"jwks": {"keys": [jwk(agency_key.public_key, "k1"), oct_key]}})
    expect_code("private_key_material", lambda: resolver.issuer_key(iss, "k1"))


def test_unsupported_key_type_is_ignored(server: ServerState, resolver, agency_key) -> None:
    """RFC 7517 §5: an RSA key is skipped; its kid fails as unsupported, others still work."""
    rsa = {"kty": "RSA", "n": "sXch", "e": "AQAB", "kid": "rsa"}
    iss = metadata_with(server, {"jwks": {"keys": [rsa, jwk(agency_key.public_key, "k1")]}})
    assert resolver.issuer_key(iss, "k1") == agency_key.public_key
    expect_code("unsupported_algorithm", lambda: resolver.issuer_key(iss, "rsa"))
    expect_code("malformed", lambda: resolver.issuer_key(iss, None))


def test_unknown_kid_is_not_found(server: ServerState, resolver, agency_key) -> None:
    """A kid the set does not hold is not found."""
    iss = metadata_with(server, {"jwks": {"keys": [jwk(agency_key.public_key, "k1")]}})
    expect_code("not_found", lambda: resolver.issuer_key(iss, "k9"))


def test_several_keys_without_kid_are_refused(
    server: ServerState, resolver, agency_key, other_key
) -> None:
    """Without a kid, a set of several keys cannot say which one signed."""
    keys = [jwk(agency_key.public_key, "k1"), jwk(other_key.public_key, "k2")]
    iss = metadata_with(server, {"jwks": {"keys": keys}})
    expect_code("malformed", lambda: resolver.issuer_key(iss, None))


def test_duplicate_kid_is_refused(server: ServerState, resolver, agency_key, other_key) -> None:
    """Two supported keys under one kid make the selection ambiguous."""
    keys = [jwk(agency_key.public_key, "k1"), jwk(other_key.public_key, "k1")]
    iss = metadata_with(server, {"jwks": {"keys": keys}})
    expect_code("malformed", lambda: resolver.issuer_key(iss, "k1"))


def test_too_many_keys_are_refused(server: ServerState, make_resolver, agency_key) -> None:
    """A JWK Set past Limits.max_issuer_keys is refused."""
    resolver = make_resolver(limits=Limits(max_issuer_keys=2))
    keys = [jwk(agency_key.public_key, f"k{i}") for i in range(3)]
    iss = metadata_with(server, {"jwks": {"keys": keys}})
    expect_code("too_large", lambda: resolver.issuer_key(iss, "k0"))


@pytest.mark.parametrize("jwks", [[], {"keys": "k"}, {"keys": ["k"]}, {"keys": [{"kid": 7}]}])
def test_malformed_jwk_set_is_refused(server: ServerState, resolver, jwks: object) -> None:
    """A JWK Set that is not {keys: [objects]} with string kids is malformed."""
    iss = metadata_with(server, {"jwks": jwks})
    expect_code("malformed", lambda: resolver.issuer_key(iss, None))


def test_oversized_body_is_refused(server: ServerState, make_resolver, agency_key) -> None:
    """A body past Limits.max_issuer_metadata_bytes is cut off and refused."""
    resolver = make_resolver(limits=Limits(max_issuer_metadata_bytes=512))
    keys = {"keys": [jwk(agency_key.public_key, "k1")]}
    iss = metadata_with(server, {"jwks": keys, "padding": "x" * 1024})
    expect_code("too_large", lambda: resolver.issuer_key(iss, "k1"))


def test_endless_body_is_cut_at_the_limit(server: ServerState, make_resolver) -> None:
    """A body without end is cut at the byte bound, not read forever."""
    resolver = make_resolver()
    iss = issuer_url(server, "")
    server.serve(WELL_KNOWN, 302, Location="/endless/metadata")
    expect_code("too_large", lambda: resolver.issuer_key(iss, None))


@pytest.mark.parametrize(
    ("body", "media"),
    [(b"not json", "application/json"), (b"[1, 2]", "application/json"), (b"{}", "text/html")],
)
def test_non_json_metadata_is_refused(
    server: ServerState, resolver, body: bytes, media: str
) -> None:
    """Non-JSON, a JSON array, or another media type than application/json is malformed."""
    server.serve(WELL_KNOWN + "/agency", 200, body, Content_Type=media)
    expect_code("malformed", lambda: resolver.issuer_key(issuer_url(server), None))


def test_jwks_uri_of_another_media_type_is_refused(
    server: ServerState, other_server: ServerState, resolver, agency_key
) -> None:
    """A JWK Set served as text/html is not used."""
    jwks_uri = f"https://localhost:{other_server.port}/keys"
    iss = metadata_with(server, {"jwks_uri": jwks_uri})
    serve_json(other_server, "/keys", {"keys": [jwk(agency_key.public_key, "k1")]}, "text/html")
    expect_code("malformed", lambda: resolver.issuer_key(iss, "k1"))


def test_http_jwks_uri_is_refused(server: ServerState, plain_server: ServerState, resolver) -> None:
    """A jwks_uri over plain HTTP is refused without contacting it."""
    iss = metadata_with(server, {"jwks_uri": f"http://localhost:{plain_server.port}/keys"})
    expect_code("insecure_transport", lambda: resolver.issuer_key(iss, "k1"))
    assert plain_server.connections == 0


def test_redirect_off_origin_is_refused(
    server: ServerState, other_server: ServerState, resolver, agency_key
) -> None:
    """A redirect to another origin is refused and never followed."""
    iss = issuer_url(server)
    target = f"https://localhost:{other_server.port}/metadata"
    server.serve(WELL_KNOWN + "/agency", 302, Location=target)
    serve_json(
        other_server,
        "/metadata",
        {"issuer": iss, "jwks": {"keys": [jwk(agency_key.public_key, "k1")]}},
    )
    expect_code("insecure_transport", lambda: resolver.issuer_key(iss, "k1"))
    assert other_server.requests == []


def test_http_issuer_is_refused_without_a_request(plain_server: ServerState, resolver) -> None:
    """An http: iss is refused before any connection."""
    iss = f"http://localhost:{plain_server.port}/agency"
    expect_code("insecure_transport", lambda: resolver.issuer_key(iss, None))
    assert plain_server.connections == 0


def test_loopback_is_refused_by_default(server: ServerState, make_resolver, agency_key) -> None:
    """Without the unsafe flag, an issuer on loopback is refused before connecting."""
    resolver = make_resolver(unsafe_allow_private_addresses=False)
    iss = metadata_with(server, {"jwks": {"keys": [jwk(agency_key.public_key, "k1")]}})
    expect_code("address_refused", lambda: resolver.issuer_key(iss, "k1"))
    assert server.connections == 0


def test_missing_metadata_is_not_found(server: ServerState, resolver) -> None:
    """HTTP 404 at the well-known URL is not_found."""
    expect_code("not_found", lambda: resolver.issuer_key(issuer_url(server), None))


def test_unlisted_issuer_is_never_fetched(server: ServerState, make_resolver) -> None:
    """With an allow-list, another issuer is refused before any traffic."""
    resolver = make_resolver(issuers=["https://mois.seoul.example"])
    expect_code("untrusted_issuer", lambda: resolver.issuer_key(issuer_url(server), None))
    assert server.connections == 0


def test_empty_allow_list_is_refused(make_resolver) -> None:
    """An empty allow-list would trust nobody: a configuration error."""
    expect_code("bad_argument", lambda: make_resolver(issuers=[]))


def test_closed_resolver_refuses(server: ServerState, make_resolver) -> None:
    """A closed resolver fails with bad_argument."""
    resolver = make_resolver()
    resolver.close()
    expect_code("bad_argument", lambda: resolver.issuer_key(issuer_url(server), None))


# -- the cache ----------------------------------------------------------------------------------


def test_cache_hit_makes_no_request(
    server: ServerState, make_resolver, agency_key, clock: FixedClock
) -> None:
    """Within the TTL a second lookup is served from the cache; after it, fetched again."""
    resolver = make_resolver(
        clock=clock, limits=Limits(issuer_metadata_cache_ttl=timedelta(minutes=5))
    )
    iss = metadata_with(server, {"jwks": {"keys": [jwk(agency_key.public_key, "k1")]}})
    resolver.issuer_key(iss, "k1")
    clock.advance(timedelta(minutes=4))
    resolver.issuer_key(iss, "k1")
    assert server.requests == [WELL_KNOWN + "/agency"]
    clock.advance(timedelta(minutes=1))
    resolver.issuer_key(iss, "k1")
    assert len(server.requests) == 2


def test_cache_is_bounded(
    server: ServerState, make_resolver, agency_key, clock: FixedClock
) -> None:
    """Past Limits.issuer_metadata_cache_entries the least recently used issuer is dropped."""
    resolver = make_resolver(clock=clock, limits=Limits(issuer_metadata_cache_entries=1))
    keys = {"keys": [jwk(agency_key.public_key, "k1")]}
    first, second = issuer_url(server, "/a"), issuer_url(server, "/b")
    serve_json(server, WELL_KNOWN + "/a", {"issuer": first, "jwks": keys})
    serve_json(server, WELL_KNOWN + "/b", {"issuer": second, "jwks": keys})
    for iss in (first, second, first):
        resolver.issuer_key(iss, "k1")
    assert server.requests == [WELL_KNOWN + "/a", WELL_KNOWN + "/b", WELL_KNOWN + "/a"]


def test_failures_are_not_cached(server: ServerState, resolver, agency_key) -> None:
    """A failed fetch is retried on the next lookup."""
    iss = issuer_url(server)
    server.serve(WELL_KNOWN + "/agency", 503)
    expect_code("unavailable", lambda: resolver.issuer_key(iss, "k1"))
    metadata_with(server, {"jwks": {"keys": [jwk(agency_key.public_key, "k1")]}})
    assert resolver.issuer_key(iss, "k1") == agency_key.public_key


# -- publishing ------------------------------------------------------------------------------------


def test_document_lists_keys_with_kid_use_and_alg(agency_key: PrivateKey) -> None:
    """The published JWKs carry kid, use: sig and alg beside the public members only."""
    document = issuer_metadata_document("https://mois.seoul.example", {"k1": agency_key.public_key})
    assert document == {
        "issuer": "https://mois.seoul.example",
        "jwks": {
            "keys": [{**agency_key.public_key.to_jwk(), "kid": "k1", "use": "sig", "alg": "EdDSA"}]
        },
    }


@pytest.mark.parametrize(
    ("url", "keys"),
    [
        ("http://mois.seoul.example", 1),
        ("https://mois.seoul.example?x", 1),
        ("https://a.example", 0),
    ],
)
def test_document_refuses_bad_arguments(agency_key: PrivateKey, url: str, keys: int) -> None:
    """A non-HTTPS or query-bearing identifier, or no keys, is a bad argument."""
    chosen = {"k1": agency_key.public_key} if keys else {}
    expect_code("bad_argument", lambda: issuer_metadata_document(url, chosen))


def test_https_issuer_issues_dc_sd_jwt_only(agency_key: PrivateKey) -> None:
    """An HTTPS issuer identifier cannot secure VC DM formats, whose issuer is a DID here."""
    issuer = Issuer(agency_key, issuer_id="https://mois.seoul.example")
    assert issuer.kid == agency_key.public_key.thumbprint()
    for fmt in ("vc+jwt", "vc+sd-jwt"):
        expect_code(
            "bad_argument",
            lambda fmt=fmt: issuer.issue("IncomeCredential", example_subject("income"), format=fmt),
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"issuer_id": "http://mois.seoul.example"},
        {"issuer_id": "https://a.example", "did": "did:web:a.example"},
    ],
)
def test_issuer_refuses_bad_issuer_id(agency_key: PrivateKey, kwargs: dict[str, str]) -> None:
    """An http issuer_id, or a DID and an issuer_id at once, is a bad argument."""
    expect_code("bad_argument", lambda: Issuer(agency_key, **kwargs))


# -- end to end through the Verifier ---------------------------------------------------------------


class Deployment:
    """An agency publishing metadata on the test server, a citizen and a verifier's trust."""

    def __init__(self, server: ServerState, key: PrivateKey) -> None:
        self.iss = issuer_url(server, "/mois")
        self.key = key
        self.citizen = PrivateKey.generate("ES256")
        self.issuer = Issuer(key, issuer_id=self.iss, kid="mois-2026")
        serve_json(
            server,
            WELL_KNOWN + "/mois",
            issuer_metadata_document(self.iss, {"mois-2026": key.public_key}),
        )
        self.trust = TrustRegistry.from_json(
            {"issuers": [{"id": self.iss, "types": ["IncomeCredential"]}]}
        )

    def credential(self) -> str:
        return self.issuer.issue(
            "IncomeCredential", example_subject("income"), holder=self.citizen.public_key
        )

    def shown(self, token: str, nonce: str) -> str:
        return present(token, self.citizen, disclose=["householdSize"], aud=AUD, nonce=nonce)


def test_credential_from_https_issuer_verifies(server: ServerState, resolver, agency_key) -> None:
    """Issue with an HTTPS iss, present, and verify with the key from the issuer's metadata."""
    agency = Deployment(server, agency_key)
    verifier = Verifier(trust=agency.trust, issuer_metadata=resolver)
    nonce = verifier.new_nonce()
    report = verifier.verify(agency.shown(agency.credential(), nonce), aud=AUD, nonce=nonce)
    assert report.ok
    assert report.issuer == agency.iss
    assert report.claims == {"householdSize": 3}
    assert server.requests == [WELL_KNOWN + "/mois"]


def test_tampered_credential_is_refused(server: ServerState, resolver, agency_key) -> None:
    """A payload changed after signing fails the signature under the published key."""
    agency = Deployment(server, agency_key)
    verifier = Verifier(trust=agency.trust, issuer_metadata=resolver)
    token = agency.credential()
    jwt, rest = token.split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["exp"] += 365 * 24 * 3600
    forged = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature])
    nonce = verifier.new_nonce()
    report = verifier.check(agency.shown(forged + "~" + rest, nonce), aud=AUD, nonce=nonce)
    assert report.error is not None
    assert report.error.code == "invalid_signature"


def test_credential_signed_by_another_key_under_the_kid_is_refused(
    server: ServerState, resolver, agency_key
) -> None:
    """An attacker reusing the issuer's iss and kid with their own key fails the signature."""
    agency = Deployment(server, agency_key)
    attacker = Issuer(PrivateKey.generate(), issuer_id=agency.iss, kid="mois-2026")
    token = attacker.issue(
        "IncomeCredential", example_subject("income"), holder=agency.citizen.public_key
    )
    verifier = Verifier(trust=agency.trust, issuer_metadata=resolver)
    nonce = verifier.new_nonce()
    report = verifier.check(agency.shown(token, nonce), aud=AUD, nonce=nonce)
    assert report.error is not None
    assert report.error.code == "invalid_signature"


def test_verifier_without_metadata_source_fails_closed(server: ServerState, agency_key) -> None:
    """Without issuer_metadata an HTTPS issuer is untrusted, and nothing is fetched."""
    agency = Deployment(server, agency_key)
    verifier = Verifier(trust=agency.trust)
    nonce = verifier.new_nonce()
    report = verifier.check(agency.shown(agency.credential(), nonce), aud=AUD, nonce=nonce)
    assert report.error is not None
    assert report.error.code == "untrusted_issuer"
    assert server.requests == []


def test_untrusted_issuer_is_never_fetched(server: ServerState, resolver, agency_key) -> None:
    """Trust before fetch (draft §8.3): an issuer the policy refuses makes no connection."""
    agency = Deployment(server, agency_key)
    other = TrustRegistry.from_json(
        {"issuers": [{"id": agency.iss, "types": ["ResidencyCredential"]}]}
    )
    verifier = Verifier(trust=other, issuer_metadata=resolver)
    nonce = verifier.new_nonce()
    report = verifier.check(agency.shown(agency.credential(), nonce), aud=AUD, nonce=nonce)
    assert report.error is not None
    assert report.error.code == "untrusted_issuer"
    assert server.requests == []


def test_pinned_key_takes_precedence(server: ServerState, resolver, agency_key) -> None:
    """A pinned issuer key is used as is; the metadata is not fetched."""
    agency = Deployment(server, agency_key)
    verifier = Verifier(issuer_key=agency_key.public_key, issuer_metadata=resolver)
    nonce = verifier.new_nonce()
    assert verifier.verify(agency.shown(agency.credential(), nonce), aud=AUD, nonce=nonce).ok
    assert server.requests == []


@pytest.mark.parametrize("member", ["jwk", "jku"])
def test_token_header_keys_are_never_used(
    server: ServerState, other_server: ServerState, resolver, agency_key, member: str
) -> None:
    """A jwk or jku header naming the attacker's key is refused; neither server is asked."""
    agency = Deployment(server, agency_key)
    attacker = PrivateKey.generate()
    jku = f"https://localhost:{other_server.port}/attacker.jwks"
    serve_json(other_server, "/attacker.jwks", {"keys": [jwk(attacker.public_key, "mois-2026")]})
    value: object = attacker.public_key.to_jwk() if member == "jwk" else jku
    claims = {"iss": agency.iss, "vct": credential_type("IncomeCredential").vct, "householdSize": 3}
    token = sd_jwt.issue(
        claims, attacker, disclosable=[], typ="dc+sd-jwt", kid="mois-2026", header={member: value}
    )
    verifier = Verifier(trust=agency.trust, issuer_metadata=resolver)
    report = verifier.check(token)
    assert report.error is not None
    assert report.error.code == "unsupported_header"
    assert other_server.requests == []
    assert server.requests == []


def test_vc_jwt_with_https_issuer_is_not_routed_to_metadata(
    server: ServerState, resolver, agency_key
) -> None:
    """Issuer metadata is SD-JWT VC only: a vc+jwt naming an HTTPS issuer is refused."""
    agency = Deployment(server, agency_key)
    document = {
        "@context": [V2_CONTEXT],
        "type": ["VerifiableCredential", "IncomeCredential"],
        "issuer": agency.iss,
        "credentialSubject": example_subject("income"),
    }
    token = encode_jwt(document, agency_key, typ="vc+jwt", kid="mois-2026")
    report = Verifier(trust=agency.trust, issuer_metadata=resolver).check(token)
    assert report.error is not None
    assert report.error.code == "untrusted_issuer"
    assert server.requests == []


# -- the CLI flag -------------------------------------------------------------------------------


def cli_verify(tmp_path: Path, token: str, trust: dict[str, Any], *flags: str) -> dict[str, Any]:
    (tmp_path / "shown.txt").write_text(token)
    (tmp_path / "trust.json").write_text(json.dumps(trust))
    args = ["verify", str(tmp_path / "shown.txt"), "--trust", str(tmp_path / "trust.json")]
    result = CliRunner().invoke(app, [*args, *flags, "--json"])
    assert result.exit_code == 1, result.output
    return json.loads(result.output)


def test_cli_does_not_fetch_metadata_by_default(
    server: ServerState, agency_key, tmp_path: Path
) -> None:
    """seoul-vc verify refuses an HTTPS issuer without --issuer-metadata, contacting nobody."""
    agency = Deployment(server, agency_key)
    trust = {"issuers": [{"id": agency.iss, "types": ["IncomeCredential"]}]}
    out = cli_verify(tmp_path, agency.credential(), trust)
    assert out["error"]["code"] == "untrusted_issuer"
    assert server.connections == 0


def test_cli_fetches_metadata_when_asked(server: ServerState, agency_key, tmp_path: Path) -> None:
    """With --issuer-metadata the fetch is attempted under the default guard (loopback refused)."""
    agency = Deployment(server, agency_key)
    trust = {"issuers": [{"id": agency.iss, "types": ["IncomeCredential"]}]}
    out = cli_verify(tmp_path, agency.credential(), trust, "--issuer-metadata")
    assert out["error"]["code"] == "address_refused"
    assert server.connections == 0


def test_cli_fetches_metadata_of_listed_issuers_only(
    server: ServerState, agency_key, tmp_path: Path
) -> None:
    """With --issuer-metadata, an issuer the trust registry does not list is never fetched."""
    agency = Deployment(server, agency_key)
    trust = {"issuers": [{"id": "https://mois.seoul.example", "types": ["IncomeCredential"]}]}
    out = cli_verify(tmp_path, agency.credential(), trust, "--issuer-metadata")
    assert out["error"]["code"] == "untrusted_issuer"
    assert server.connections == 0
