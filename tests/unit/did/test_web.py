"""did:web: the URL rule, the address guard, HTTPS-only transport and bounds, on real servers."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import time
from datetime import timedelta

import pytest

from https_server import did_document
from seoul_vc.did import MethodResolver, resolve_verification_method
from seoul_vc.did.web import WebResolver, check_public_address, did_web_url
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.limits import Limits

ONE_SECOND = Limits(did_web_timeout=timedelta(seconds=1))


def expect_code(code: str, fn, *args) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SeoulVCError) as info:
        fn(*args)
    assert info.value.code == code


# -- the URL rule ------------------------------------------------------------------------------

VALID_URLS = [
    ("did:web:example.com", "https://example.com/.well-known/did.json"),
    ("did:web:example.com:user:alice", "https://example.com/user/alice/did.json"),
    ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ("did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"),
    ("did:web:localhost", "https://localhost/.well-known/did.json"),
    ("did:web:example.com%3a8443", "https://example.com:8443/.well-known/did.json"),
    ("did:web:City.SEOUL.Example", "https://city.seoul.example/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:xn--9n2bp8q.example", "https://xn--9n2bp8q.example/.well-known/did.json"),
    ("did:web:example.com:a%20b", "https://example.com/a%20b/did.json"),
    ("did:web:example.com:...", "https://example.com/.../did.json"),
    ("did:web:example.com%3A65535", "https://example.com:65535/.well-known/did.json"),
    ("did:web:a1.example", "https://a1.example/.well-known/did.json"),
]

INVALID_DIDS = [
    "did:web:host%40127.0.0.1",  # would become userinfo host@127.0.0.1
    "did:web:2130706433",  # decimal IPv4
    "did:web:0x7f000001",  # hex IPv4
    "did:web:127.1",  # short IPv4
    "did:web:0177.0.0.1",  # octal IPv4
    "did:web:127.0.0.1",
    "did:web:127.0.0.1%3A443",
    "did:web:example.0x1f",  # last label read as a number
    "did:web:example.123",
    "did:web:example.0x",
    "did:web:example.com%2Fevil",
    "did:web:example.com%2fevil",
    "did:web:%65xample.com",
    "did:web:example.com%3A80%3A81",
    "did:web:example.com%3A0",
    "did:web:example.com%3A65536",
    "did:web:example.com%3A080",
    "did:web:example.com%3A",
    "did:web:example.com%3A%38%30",
    "did:web:example.com:..:x",
    "did:web:example.com:.:x",
    "did:web:example.com:%2e%2E:x",
    "did:web:example.com:a%2Fb",
    "did:web:example.com:a%3Fb",
    "did:web:example.com:a%23b",
    "did:web:example.com:a%5Cb",
    "did:web:example.com:a%252Fb",
    "did:web:example.com:a%00b",
    "did:web:example.com::x",
    "did:web::example.com",
    "did:web:example",
    "did:web:example.com.",
    "did:web:.example.com",
    "did:web:-example.com",
    "did:web:example-.com",
    "did:web:exa_mple.com",
    "did:web:" + "a" * 64 + ".example",
    "did:web:" + ".".join(["a" * 63] * 4) + ".example",
    "did:web:[::1]",
    "did:web:example.com/path",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:webs:example.com",
    "web:example.com",
]


@pytest.mark.parametrize(("did", "url"), VALID_URLS)
def test_did_web_url_follows_the_read_rule(did: str, url: str) -> None:
    """A valid did:web maps to its HTTPS URL (Read steps 1-5), host lowercased."""
    assert did_web_url(did) == url


@pytest.mark.parametrize("did", INVALID_DIDS)
def test_did_web_url_refuses_invalid_dids(did: str) -> None:
    """IP literals in any spelling, encoded host bytes, bad ports and bad paths are refused."""
    expect_code("invalid_did", did_web_url, did)


# -- the address classifier -------------------------------------------------------------------

REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space
    "0.0.0.0",  # noqa: S104 (an address to classify, not to bind)
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "198.18.0.1",
    "192.88.99.1",
    "::",
    "::1",
    "fe80::1",
    "fe80::1%1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "2001:db8::1",
    "3fff::1",
    "2001:2::1",
    "100::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "::8.8.8.8",  # IPv4-compatible: deprecated, never on the wire
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    "64:ff9b:1::1",
    "not-an-address",
]

PUBLIC_ADDRESSES = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_special_addresses_are_refused(address: str) -> None:
    """Loopback, private, special-purpose and IPv4-embedding forms of them are refused."""
    expect_code("address_refused", check_public_address, address)


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_pass(address: str) -> None:
    """Global unicast addresses, also when embedded in IPv6 forms, pass the guard."""
    check_public_address(address)


# -- resolution against a real HTTPS server ------------------------------------------------------


def test_path_did_with_port_resolves(server, resolver, document) -> None:
    """A path-based did:web with a port resolves to its document over HTTPS."""
    did = server.did("users", "alice")
    server.publish(did, document(did))
    assert str(resolver.resolve(did).id) == did
    assert server.requests == ["/users/alice/did.json"]


def test_bare_host_did_resolves_from_well_known(server, resolver, document) -> None:
    """A did:web without a path is fetched from /.well-known/did.json."""
    did = server.did()
    server.publish(did, document(did))
    assert str(resolver.resolve(did).id) == did
    assert server.requests == ["/.well-known/did.json"]


def test_verification_method_resolves_through_method_resolver(
    server, resolver, document, key
) -> None:
    """resolve_verification_method finds the key of a did:web through MethodResolver."""
    did = server.did("issuers", "seoul")
    doc = document(did)
    server.publish(did, doc)
    kid = doc["assertionMethod"][0]
    method = resolve_verification_method(kid, resolver=MethodResolver(web=resolver))
    assert method.public_key == key.public_key


def test_tls_server_name_is_the_host_not_the_address(server, resolver, document) -> None:
    """The resolver connects to the vetted address but sends the host name as SNI."""
    did = server.did("sni")
    server.publish(did, document(did))
    resolver.resolve(did)
    assert server.server_names == ["localhost"]


def test_host_header_names_the_host_and_port(server, resolver, document) -> None:
    """The Host header carries the DID's host and port, not the connected address."""
    did = server.did("host")
    server.publish(did, document(did))
    resolver.resolve(did)
    assert server.host_headers == [f"localhost:{server.port}"]


def test_wrong_document_id_is_refused(server, resolver, document) -> None:
    """A document whose id is another DID fails with did_mismatch."""
    did = server.did("mallory")
    server.publish(did, document(server.did("alice")))
    expect_code("did_mismatch", resolver.resolve, did)


def test_invalid_json_is_refused(server, resolver) -> None:
    """A body that is not JSON fails with malformed."""
    did = server.did("broken")
    server.serve(server.path_of(did), 200, b'{"id": ')
    expect_code("malformed", resolver.resolve, did)


def test_deep_json_is_refused(server, resolver) -> None:
    """A body nested past max_json_depth fails with too_deep."""
    did = server.did("deep")
    server.serve(server.path_of(did), 200, b'{"a":' * 40 + b"1" + b"}" * 40)
    expect_code("too_deep", resolver.resolve, did)


def test_json_that_is_not_an_object_is_refused(server, resolver) -> None:
    """A JSON array body is not a DID document: malformed."""
    did = server.did("array")
    server.serve(server.path_of(did), 200, json.dumps([1, 2]).encode())
    expect_code("malformed", resolver.resolve, did)


def test_compressed_body_is_refused(server, resolver, document) -> None:
    """A gzip body sent against Accept-Encoding: identity fails with malformed."""
    did = server.did("gzip")
    body = gzip.compress(json.dumps(document(did)).encode())
    server.serve(server.path_of(did), 200, body, Content_Encoding="gzip")
    expect_code("malformed", resolver.resolve, did)


def test_declared_oversized_body_is_refused(server, make_resolver) -> None:
    """A Content-Length past max_did_document_bytes fails with too_large."""
    resolver = make_resolver(limits=Limits(max_did_document_bytes=1024))
    did = server.did("big")
    server.serve(server.path_of(did), 200, b" " * 2048)
    expect_code("too_large", resolver.resolve, did)


@pytest.mark.timeout(10)
def test_endless_body_is_cut_at_the_limit(server, resolver) -> None:
    """A body without Content-Length is streamed and cut at max_did_document_bytes."""
    started = time.monotonic()
    expect_code("too_large", resolver.resolve, server.did("endless", "x"))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("status", [404, 410])
def test_missing_document_is_not_found(server, resolver, status: int) -> None:
    """HTTP 404 and 410 mean the DID has no document: not_found."""
    did = server.did("gone")
    server.serve(server.path_of(did), status, b"")
    expect_code("not_found", resolver.resolve, did)


@pytest.mark.parametrize("status", [500, 503, 204, 304])
def test_other_statuses_are_unavailable(server, resolver, status: int) -> None:
    """Any status but 200, a redirect, 404 or 410 fails with unavailable."""
    did = server.did("error")
    server.serve(server.path_of(did), status, b"")
    expect_code("unavailable", resolver.resolve, did)


@pytest.mark.timeout(10)
def test_trickled_body_fails_by_the_deadline(server, make_resolver) -> None:
    """A server sending a byte every 0.1 s fails with unavailable in about the timeout."""
    resolver = make_resolver(limits=ONE_SECOND)
    started = time.monotonic()
    expect_code("unavailable", resolver.resolve, server.did("trickle-body", "x"))
    assert time.monotonic() - started < 2


@pytest.mark.timeout(10)
def test_trickled_headers_fail_by_the_deadline(server, make_resolver) -> None:
    """A server trickling its status line and headers fails with unavailable in time."""
    resolver = make_resolver(limits=ONE_SECOND)
    started = time.monotonic()
    expect_code("unavailable", resolver.resolve, server.did("trickle-head", "x"))
    assert time.monotonic() - started < 2


def test_untrusted_certificate_is_unavailable(server, make_resolver, document) -> None:
    """A certificate from a CA the context does not trust fails with unavailable."""
    resolver = make_resolver(ssl_context=ssl.create_default_context())
    did = server.did("tls")
    server.publish(did, document(did))
    expect_code("unavailable", resolver.resolve, did)
    assert server.requests == []


def test_refused_connection_is_unavailable(resolver) -> None:
    """A port nobody listens on fails with unavailable."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    expect_code("unavailable", resolver.resolve, f"did:web:localhost%3A{port}")


# -- redirects ------------------------------------------------------------------------------------


def test_same_origin_redirect_is_followed(server, resolver, document) -> None:
    """A relative redirect on the same origin is followed to the document."""
    did = server.did("moved")
    server.serve(server.path_of(did), 301, Location="/new-home/did.json")
    server.publish(did, document(did), path="/new-home/did.json")
    assert str(resolver.resolve(did).id) == did


def test_redirects_up_to_the_limit_are_followed(server, make_resolver, document) -> None:
    """Exactly did_web_max_redirects same-origin redirects still resolve."""
    resolver = make_resolver(limits=Limits(did_web_max_redirects=2))
    did = server.did("hops")
    server.serve(server.path_of(did), 302, Location="/hop1/did.json")
    server.serve("/hop1/did.json", 307, Location=f"https://localhost:{server.port}/hop2/did.json")
    server.publish(did, document(did), path="/hop2/did.json")
    assert str(resolver.resolve(did).id) == did


def test_redirects_past_the_limit_are_refused(server, make_resolver, document) -> None:
    """One redirect more than did_web_max_redirects fails with insecure_transport."""
    resolver = make_resolver(limits=Limits(did_web_max_redirects=1))
    did = server.did("hops")
    server.serve(server.path_of(did), 302, Location="/hop1/did.json")
    server.serve("/hop1/did.json", 308, Location="/hop2/did.json")
    server.publish(did, document(did), path="/hop2/did.json")
    expect_code("insecure_transport", resolver.resolve, did)
    assert "/hop2/did.json" not in server.requests


def test_redirect_to_another_port_is_refused(server, other_server, resolver, document) -> None:
    """A redirect to another port of the same host fails and is never followed."""
    did = server.did("away")
    other_server.publish(did, document(did), path="/x/did.json")
    server.serve(
        server.path_of(did), 302, Location=f"https://localhost:{other_server.port}/x/did.json"
    )
    expect_code("insecure_transport", resolver.resolve, did)
    assert other_server.connections == 0


def test_redirect_to_another_host_is_refused(server, resolver, document) -> None:
    """A redirect to another host name, even of the same server, is refused."""
    did = server.did("elsewhere")
    server.publish(did, document(did), path="/x/did.json")
    server.serve(server.path_of(did), 302, Location=f"https://127.0.0.1:{server.port}/x/did.json")
    expect_code("insecure_transport", resolver.resolve, did)
    assert "/x/did.json" not in server.requests


def test_redirect_to_http_is_refused(server, plain_server, resolver, document) -> None:
    """A redirect to plain HTTP is refused before anything is sent."""
    did = server.did("downgrade")
    plain_server.publish(did, document(did), path="/x/did.json")
    server.serve(server.path_of(did), 302, Location=f"http://localhost:{plain_server.port}/x")
    expect_code("insecure_transport", resolver.resolve, did)
    assert plain_server.connections == 0


def test_redirect_with_userinfo_is_refused(server, resolver, document) -> None:
    """A same-origin redirect that adds credentials (userinfo) is refused."""
    did = server.did("userinfo")
    server.publish(did, document(did), path="/x/did.json")
    location = f"https://user:pw@localhost:{server.port}/x/did.json"
    server.serve(server.path_of(did), 302, Location=location)
    expect_code("insecure_transport", resolver.resolve, did)


def test_redirect_without_location_is_unavailable(server, resolver) -> None:
    """A redirect status without a Location header fails with unavailable."""
    did = server.did("nowhere")
    server.serve(server.path_of(did), 302)
    expect_code("unavailable", resolver.resolve, did)


# -- the guard and HTTPS-only --------------------------------------------------------------------


def test_default_resolver_refuses_loopback_without_connecting(server, local_ca, document) -> None:
    """With the guard on, localhost is refused at connect time; the server sees nothing."""
    did = server.did("guarded")
    server.publish(did, document(did))
    with WebResolver(ssl_context=local_ca.client_context()) as resolver:
        expect_code("address_refused", resolver.resolve, did)
    assert server.connections == 0
    assert server.requests == []


def test_ip_literal_is_refused_before_connecting(server, resolver) -> None:
    """Even with the guard off, an IP-literal did:web is invalid and nothing is contacted."""
    expect_code("invalid_did", resolver.resolve, f"did:web:127.0.0.1%3A{server.port}")
    assert server.connections == 0


def test_plain_http_server_is_never_spoken_to_in_http(plain_server, resolver, document) -> None:
    """There is no HTTP mode: a plain-HTTP server only ever sees a TLS handshake fail."""
    did = f"did:web:localhost%3A{plain_server.port}"
    plain_server.publish(did, document(did))
    expect_code("unavailable", resolver.resolve, did)
    assert plain_server.requests == []


def test_unverifying_tls_context_is_refused() -> None:
    """A TLS context that skips certificate checks is a configuration error."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    expect_code("bad_argument", lambda: WebResolver(ssl_context=context))


def test_closed_resolver_refuses_to_resolve(make_resolver, server) -> None:
    """After close(), resolve fails with bad_argument instead of reopening connections."""
    resolver = make_resolver()
    resolver.close()
    expect_code("bad_argument", resolver.resolve, server.did("late"))


def test_overlong_did_is_refused(resolver) -> None:
    """A DID past max_did_bytes fails with too_large before anything else."""
    expect_code("too_large", resolver.resolve, "did:web:" + "a" * 3000 + ".example")


def test_verifier_never_resolves_an_untrusted_did_web_issuer(server, resolver, key) -> None:
    """Trust first, fetch second: a presentation cannot steer a verifier to any did:web host."""
    from seoul_vc.credentials import Issuer, TrustRegistry, Verifier
    from seoul_vc.credentials.schemas import example_subject

    did = server.did("issuers", "unknown")
    server.publish(did, did_document(did, key.public_key))
    kid = f"{did}#{key.public_key.to_multikey()}"
    token = Issuer(key, did=did, kid=kid).issue("ResidencyCredential", example_subject("residency"))
    trusted = {"issuers": [{"id": "did:web:mois.example", "types": ["ResidencyCredential"]}]}
    verifier = Verifier(
        trust=TrustRegistry.from_json(trusted), resolver=MethodResolver(web=resolver)
    )
    report = verifier.check(token)
    assert report.error is not None
    assert report.error.code is Code.UNTRUSTED_ISSUER
    assert server.requests == []
    # The same token from a trusted issuer is resolved (once) and verifies.
    trusted["issuers"].append({"id": did, "types": ["ResidencyCredential"]})
    verifier = Verifier(
        trust=TrustRegistry.from_json(trusted), resolver=MethodResolver(web=resolver)
    )
    assert verifier.check(token).ok
    assert server.requests == ["/issuers/unknown/did.json"]
