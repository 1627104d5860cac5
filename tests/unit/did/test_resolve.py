"""DID syntax, MethodResolver, CachingResolver and verification-method lookup."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import base58
import pytest

from seoul_vc._encoding import encode_multibase_base58btc
from seoul_vc.clock import FixedClock
from seoul_vc.did import (
    CachingResolver,
    MethodResolver,
    Resolver,
    resolve,
    resolve_verification_method,
)
from seoul_vc.did.document import find_verification_method, parse_did_document, public_key_of
from seoul_vc.did.key import did_key
from seoul_vc.did.syntax import method_of, parse_did, split_did_url
from seoul_vc.errors import Code, NotFoundError, SeoulVCError
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.limits import Limits

DID = "did:example:123"
ED_KEY = PrivateKey.generate("EdDSA").public_key
P256_KEY = PrivateKey.generate("ES256").public_key


def code_of(fn, *args, **kwargs) -> Code:  # type: ignore[no-untyped-def]
    """Call ``fn`` and return the code of the SeoulVCError it must raise."""
    with pytest.raises(SeoulVCError) as info:
        fn(*args, **kwargs)
    return info.value.code


def multikey(id_: str, key: PublicKey, controller: str = DID) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": key.to_multikey(),
    }


def document(**members: Any) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/did/v1"], "id": DID, **members}


# -- DID syntax (DID Core 1.0 §3.1, §3.2) -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "did:example:123",
        "did:web:city.seoul.example",
        "did:web:city.seoul.example%3A8443",
        "did:web:city.seoul.example:issuers:housing",
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "did:a1:x",
        "did:example::x",
        "did:example:a.b-c_d",
    ],
)
def test_valid_dids_parse(text: str) -> None:
    """DIDs of the DID Core §3.1 ABNF are accepted unchanged."""
    assert parse_did(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "did:KEY:abc",
        "DID:key:abc",
        "did:Example:abc",
        "did:ex-ample:abc",
        "did::abc",
        "did:key:",
        "did:key",
        "did:",
        "",
        "did:web:example.com:",
        "did:key:a b",
        " did:key:abc",
        "did:key:abc ",
        "did:key:abc\n",
        "did:key:abc#frag",
        "did:key:abc?service=x",
        "did:key:abc/path",
        "did:key:%zz",
        "did:key:ab%2",
        "did:key:ab%",
        "did:key:caf\u00e9",
        "did:k\u00e9y:abc",
        "urn:key:abc",
        "did:key:a=b",
        "did:key:a+b",
    ],
)
def test_invalid_dids_are_invalid_did(text: str) -> None:
    """Upper-case methods, empty ids, trailing colons, spaces, paths and bad escapes fail."""
    assert code_of(parse_did, text) == Code.INVALID_DID


def test_overlong_did_is_too_large() -> None:
    """A DID past max_bytes is too_large, checked before matching."""
    assert code_of(parse_did, "did:example:" + "a" * 2048) == Code.TOO_LARGE


def test_did_of_exactly_max_bytes_is_accepted() -> None:
    """max_bytes is inclusive."""
    text = "did:example:" + "a" * 36
    assert parse_did(text, max_bytes=48) == text


def test_did_that_is_not_text_is_invalid_did() -> None:
    """Bytes are not a DID."""
    assert code_of(parse_did, b"did:example:123") == Code.INVALID_DID


@pytest.mark.parametrize(
    ("text", "did", "fragment"),
    [
        ("did:example:123#key-1", "did:example:123", "key-1"),
        ("did:web:a.example%3A8443#k", "did:web:a.example%3A8443", "k"),
        ("did:example:123#a/b?c:d@e", "did:example:123", "a/b?c:d@e"),
        ("did:example:123#z6Mk%20", "did:example:123", "z6Mk%20"),
    ],
)
def test_split_did_url_separates_did_and_fragment(text: str, did: str, fragment: str) -> None:
    """'did#fragment' splits into the DID and the fragment (RFC 3986 §3.5 characters)."""
    assert split_did_url(text) == (did, fragment)


@pytest.mark.parametrize(
    "text",
    [
        "did:example:123",
        "did:example:123#",
        "#key-1",
        "did:example:123#a#b",
        "did:example:123#a b",
        "did:example:123#%zz",
        "did:example:123#\u00e9",
        "did:EXAMPLE:123#k",
        "did:example:123/path#k",
        "did:example:123?q=1#k",
        "did:example:#k",
    ],
)
def test_invalid_did_urls_are_invalid_did(text: str) -> None:
    """A missing or empty fragment, a bad fragment, or a bad DID part is invalid_did."""
    assert code_of(split_did_url, text) == Code.INVALID_DID


def test_overlong_did_url_is_too_large() -> None:
    """A DID URL past max_bytes is too_large."""
    assert code_of(split_did_url, "did:example:1#" + "k" * 2048) == Code.TOO_LARGE


def test_did_url_that_is_not_text_is_invalid_did() -> None:
    """Bytes are not a DID URL."""
    assert code_of(split_did_url, b"did:example:1#k") == Code.INVALID_DID


@pytest.mark.parametrize(
    ("did", "method"), [("did:key:z6Mk", "key"), ("did:web:a.example:b", "web"), (DID, "example")]
)
def test_method_of_returns_the_method_name(did: str, method: str) -> None:
    """method_of gives the method name of a parsed DID."""
    assert method_of(parse_did(did)) == method


# -- MethodResolver -----------------------------------------------------------------------


def test_unsupported_method_is_invalid_did() -> None:
    """did:example is not resolvable."""
    assert code_of(MethodResolver().resolve, DID) == Code.INVALID_DID


def test_did_web_without_web_resolver_is_invalid_did() -> None:
    """An offline MethodResolver refuses did:web rather than fetching."""
    assert code_of(MethodResolver().resolve, "did:web:city.seoul.example") == Code.INVALID_DID


def test_method_resolver_applies_max_did_bytes() -> None:
    """Limits.max_did_bytes bounds the DID."""
    did = did_key(ED_KEY)
    resolver = MethodResolver(limits=Limits(max_did_bytes=len(did) - 1))
    assert code_of(resolver.resolve, did) == Code.TOO_LARGE


def test_resolve_with_explicit_resolver_returns_the_document() -> None:
    """resolve(did, resolver=...) returns a document whose id is the DID."""
    did = did_key(P256_KEY)
    assert str(resolve(did, resolver=MethodResolver()).id) == did


def test_method_resolver_is_a_resolver() -> None:
    """MethodResolver and CachingResolver satisfy the Resolver protocol."""
    assert isinstance(MethodResolver(), Resolver)
    assert isinstance(CachingResolver(MethodResolver()), Resolver)


def test_resolve_verification_method_refuses_did_without_fragment() -> None:
    """A kid must be a DID URL with a fragment."""
    assert code_of(resolve_verification_method, did_key(ED_KEY), resolver=MethodResolver()) == (
        Code.INVALID_DID
    )


# -- CachingResolver ----------------------------------------------------------------------


class CountingResolver:
    """Resolves did:key locally and counts calls; fails first for DIDs in ``fail_once``."""

    def __init__(self, fail_once: set[str] | None = None) -> None:
        self.calls: list[str] = []
        self.fail_once = fail_once or set()
        self.inner = MethodResolver()

    def resolve(self, did: str) -> Any:
        self.calls.append(did)
        if did in self.fail_once:
            self.fail_once.discard(did)
            raise NotFoundError(Code.NOT_FOUND, "not yet")
        return self.inner.resolve(did)


TEN_SECONDS = Limits(resolver_cache_ttl=timedelta(seconds=10))
DIDS = [did_key(PrivateKey.generate().public_key) for _ in range(3)]


def test_cache_hit_within_ttl_calls_inner_once(clock: FixedClock) -> None:
    """Two resolutions within the TTL reach the inner resolver once and share the document."""
    inner = CountingResolver()
    cache = CachingResolver(inner, limits=TEN_SECONDS, clock=clock)
    first = cache.resolve(DIDS[0])
    clock.advance(timedelta(seconds=9))
    assert cache.resolve(DIDS[0]) is first
    assert inner.calls == [DIDS[0]]


def test_cache_miss_after_ttl_calls_inner_again(clock: FixedClock) -> None:
    """After the TTL has passed the document is resolved again."""
    inner = CountingResolver()
    cache = CachingResolver(inner, limits=TEN_SECONDS, clock=clock)
    cache.resolve(DIDS[0])
    clock.advance(timedelta(seconds=11))
    cache.resolve(DIDS[0])
    assert inner.calls == [DIDS[0], DIDS[0]]


def test_cache_entry_of_exactly_ttl_age_is_stale(clock: FixedClock) -> None:
    """Only documents younger than the TTL are reused."""
    inner = CountingResolver()
    cache = CachingResolver(inner, limits=TEN_SECONDS, clock=clock)
    cache.resolve(DIDS[0])
    clock.advance(timedelta(seconds=10))
    cache.resolve(DIDS[0])
    assert len(inner.calls) == 2


def test_cache_evicts_least_recently_used(clock: FixedClock) -> None:
    """With two entries, using A then adding C evicts B, not A."""
    inner = CountingResolver()
    limits = Limits(resolver_cache_entries=2, resolver_cache_ttl=timedelta(hours=1))
    cache = CachingResolver(inner, limits=limits, clock=clock)
    a, b, c = DIDS
    cache.resolve(a)
    cache.resolve(b)
    cache.resolve(a)  # hit: A becomes most recently used
    cache.resolve(c)  # evicts B
    inner.calls.clear()
    cache.resolve(a)
    cache.resolve(b)
    assert inner.calls == [b]


def test_cache_does_not_keep_more_than_its_entries(clock: FixedClock) -> None:
    """After three DIDs in a two-entry cache, the first is resolved again."""
    inner = CountingResolver()
    cache = CachingResolver(inner, limits=Limits(resolver_cache_entries=2), clock=clock)
    for did in DIDS:
        cache.resolve(did)
    inner.calls.clear()
    cache.resolve(DIDS[0])
    assert inner.calls == [DIDS[0]]


def test_cache_does_not_cache_failures(clock: FixedClock) -> None:
    """A failed resolution is retried on the next call, which then succeeds."""
    inner = CountingResolver(fail_once={DIDS[0]})
    cache = CachingResolver(inner, limits=TEN_SECONDS, clock=clock)
    assert code_of(cache.resolve, DIDS[0]) == Code.NOT_FOUND
    assert str(cache.resolve(DIDS[0]).id) == DIDS[0]
    assert inner.calls == [DIDS[0], DIDS[0]]


def test_cache_clear_forgets_documents(clock: FixedClock) -> None:
    """clear() makes the next resolution reach the inner resolver."""
    inner = CountingResolver()
    cache = CachingResolver(inner, limits=TEN_SECONDS, clock=clock)
    cache.resolve(DIDS[0])
    cache.clear()
    cache.resolve(DIDS[0])
    assert len(inner.calls) == 2


def test_cached_resolver_feeds_resolve_verification_method(clock: FixedClock) -> None:
    """resolve_verification_method through a cache resolves once for two lookups."""
    inner = CountingResolver()
    cache = CachingResolver(inner, limits=TEN_SECONDS, clock=clock)
    kid = f"{DIDS[0]}#{DIDS[0][8:]}"
    first = resolve_verification_method(kid, resolver=cache)
    assert resolve_verification_method(kid, resolver=cache) == first
    assert inner.calls == [DIDS[0]]


# -- documents and relationships (DID Core §5.2, §5.3) ------------------------------------


def test_document_with_another_id_is_did_mismatch() -> None:
    """A document whose id is not the DID asked for is refused (DID Core §7.1.2)."""
    assert code_of(parse_did_document, document(id="did:example:456"), did=DID) == (
        Code.DID_MISMATCH
    )


def test_document_without_id_is_did_mismatch() -> None:
    """A document with no id does not describe the DID."""
    data = document()
    del data["id"]
    assert code_of(parse_did_document, data, did=DID) == Code.DID_MISMATCH


@pytest.mark.parametrize(
    "members",
    [
        {"verificationMethod": "nope"},
        {"authentication": {"a": 1}},
        {"verificationMethod": [{"id": "#k", "type": "Multikey", "controller": DID}]},
        {"controller": 5},
    ],
    ids=["vm-string", "auth-object", "vm-without-key", "controller-number"],
)
def test_invalid_document_is_malformed(members: dict[str, Any]) -> None:
    """Documents that pydid rejects are malformed."""
    assert code_of(parse_did_document, document(**members), did=DID) == Code.MALFORMED


@pytest.mark.parametrize(
    "members",
    [{"verificationMethod": [5]}, {"authentication": [5]}, {"assertionMethod": [None]}],
    ids=["vm-number", "auth-number", "assertion-null"],
)
def test_document_with_non_object_list_items_is_malformed(members: dict[str, Any]) -> None:
    """A number or null where a method or reference belongs is malformed, not a crash."""
    assert code_of(parse_did_document, document(**members), did=DID) == Code.MALFORMED


def test_method_only_in_authentication_is_not_found_for_assertion() -> None:
    """A key listed only under authentication cannot sign assertions (DID Core §5.3.2)."""
    doc = parse_did_document(
        document(verificationMethod=[multikey("#k1", ED_KEY)], authentication=["#k1"]), did=DID
    )
    assert code_of(find_verification_method, doc, f"{DID}#k1") == Code.NOT_FOUND


def test_method_only_in_authentication_is_found_for_authentication() -> None:
    """The same key is found under the relationship that lists it."""
    doc = parse_did_document(
        document(verificationMethod=[multikey("#k1", ED_KEY)], authentication=["#k1"]), did=DID
    )
    method = find_verification_method(doc, f"{DID}#k1", relationship="authentication")
    assert (method.id, method.public_key) == (f"{DID}#k1", ED_KEY)


def test_method_listed_nowhere_is_found_only_without_relationship() -> None:
    """relationship=None accepts any method of verificationMethod."""
    doc = parse_did_document(document(verificationMethod=[multikey("#k1", ED_KEY)]), did=DID)
    assert find_verification_method(doc, f"{DID}#k1", relationship=None).public_key == ED_KEY
    assert code_of(find_verification_method, doc, f"{DID}#k1") == Code.NOT_FOUND


def test_embedded_method_is_found_for_its_relationship() -> None:
    """A method embedded in assertionMethod is usable for assertions (DID Core §5.3)."""
    doc = parse_did_document(document(assertionMethod=[multikey("#e1", P256_KEY)]), did=DID)
    method = find_verification_method(doc, f"{DID}#e1", relationship="assertionMethod")
    assert method.public_key == P256_KEY


def test_embedded_method_is_not_found_for_another_relationship() -> None:
    """A method embedded in authentication is not usable for assertions."""
    doc = parse_did_document(document(authentication=[multikey("#e1", P256_KEY)]), did=DID)
    assert code_of(find_verification_method, doc, f"{DID}#e1") == Code.NOT_FOUND


def test_relative_reference_resolves_against_the_document_id() -> None:
    """'#k1' in a relationship names '<did>#k1' (DID Core §3.2.2)."""
    doc = parse_did_document(
        document(verificationMethod=[multikey("#k1", ED_KEY)], assertionMethod=["#k1"]), did=DID
    )
    assert find_verification_method(doc, f"{DID}#k1").id == f"{DID}#k1"


def test_absolute_reference_and_absolute_method_id_match() -> None:
    """Absolute method ids and references work as relative ones do."""
    doc = parse_did_document(
        document(verificationMethod=[multikey(f"{DID}#k1", ED_KEY)], assertionMethod=[f"{DID}#k1"]),
        did=DID,
    )
    assert find_verification_method(doc, f"{DID}#k1").public_key == ED_KEY


def test_relative_did_url_is_not_found() -> None:
    """Lookups take absolute DID URLs; a bare '#k1' names nothing."""
    doc = parse_did_document(
        document(verificationMethod=[multikey("#k1", ED_KEY)], assertionMethod=["#k1"]), did=DID
    )
    assert code_of(find_verification_method, doc, "#k1") == Code.NOT_FOUND


def test_reference_to_missing_method_is_not_found() -> None:
    """A relationship pointing at no method is not_found."""
    doc = parse_did_document(document(assertionMethod=["#ghost"]), did=DID)
    assert code_of(find_verification_method, doc, f"{DID}#ghost") == Code.NOT_FOUND


def test_unknown_relationship_is_malformed() -> None:
    """Only the five DID Core relationships can be asked for."""
    doc = parse_did_document(document(verificationMethod=[multikey("#k1", ED_KEY)]), did=DID)
    assert code_of(find_verification_method, doc, f"{DID}#k1", relationship="signing") == (
        Code.MALFORMED
    )


def test_weak_key_in_document_is_refused_at_lookup() -> None:
    """A small-order Multikey in a document is weak_key when looked up."""
    vm = {
        "id": "#w",
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": encode_multibase_base58btc(b"\xed\x01\x01" + b"\x00" * 31),
    }
    doc = parse_did_document(document(verificationMethod=[vm], assertionMethod=["#w"]), did=DID)
    assert code_of(find_verification_method, doc, f"{DID}#w") == Code.WEAK_KEY


def test_unsupported_method_type_is_malformed_at_lookup() -> None:
    """A method type we cannot import is malformed."""
    vm = {"id": "#x", "type": "FooKey2030", "controller": DID, "publicKeyMultibase": "z6Mk"}
    doc = parse_did_document(document(verificationMethod=[vm], assertionMethod=["#x"]), did=DID)
    assert code_of(find_verification_method, doc, f"{DID}#x") == Code.MALFORMED


def test_method_controller_is_reported() -> None:
    """The method's controller comes from the document."""
    other = "did:example:controller"
    doc = parse_did_document(
        document(verificationMethod=[multikey("#k1", ED_KEY, other)], assertionMethod=["#k1"]),
        did=DID,
    )
    assert find_verification_method(doc, f"{DID}#k1").controller == other


# -- public_key_of (method types) ---------------------------------------------------------


@pytest.mark.parametrize("vm_type", ["JsonWebKey", "JsonWebKey2020"])
def test_json_web_key_methods_import_their_jwk(vm_type: str) -> None:
    """JsonWebKey and JsonWebKey2020 carry publicKeyJwk (Controlled Identifiers §2.2.3)."""
    assert public_key_of({"type": vm_type, "publicKeyJwk": P256_KEY.to_jwk()}) == P256_KEY


@pytest.mark.parametrize("vm_type", ["Multikey", "Ed25519VerificationKey2020"])
def test_multibase_methods_import_their_key(vm_type: str) -> None:
    """Multikey and Ed25519VerificationKey2020 carry publicKeyMultibase."""
    method = {"type": vm_type, "publicKeyMultibase": ED_KEY.to_multikey()}
    assert public_key_of(method) == ED_KEY


def test_ed25519_2020_with_p256_key_is_invalid_key() -> None:
    """Ed25519VerificationKey2020 holding a P-256 multikey is refused."""
    method = {"type": "Ed25519VerificationKey2020", "publicKeyMultibase": P256_KEY.to_multikey()}
    assert code_of(public_key_of, method) == Code.INVALID_KEY


def test_json_web_key_with_private_jwk_is_private_key_material() -> None:
    """A publicKeyJwk holding d is refused."""
    jwk = PrivateKey.generate().private_jwk()
    assert code_of(public_key_of, {"type": "JsonWebKey2020", "publicKeyJwk": jwk}) == (
        Code.PRIVATE_KEY_MATERIAL
    )


@pytest.mark.parametrize(
    "method",
    [
        {"type": "JsonWebKey2020"},
        {"type": "JsonWebKey2020", "publicKeyJwk": "eyJ"},
        {"type": "Multikey"},
        {"type": "Multikey", "publicKeyMultibase": 5},
        {"type": "Ed25519VerificationKey2018"},
        {"type": "Ed25519VerificationKey2018", "publicKeyBase58": "1" * 65},
        {"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyHex": "02"},
        {"publicKeyMultibase": "z6Mk"},
    ],
    ids=[
        "jwk-missing",
        "jwk-string",
        "multibase-missing",
        "multibase-number",
        "base58-missing",
        "base58-too-long",
        "secp256k1",
        "no-type",
    ],
)
def test_method_without_usable_key_member_is_malformed(method: dict[str, Any]) -> None:
    """Missing or mistyped key members and unsupported types are malformed."""
    assert code_of(public_key_of, method) == Code.MALFORMED


@pytest.mark.parametrize(
    "b58",
    [
        "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtaj0",
        " 4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
        "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS\n",
    ],
    ids=["zero-digit", "leading-space", "trailing-newline"],
)
def test_ed25519_2018_non_canonical_base58_is_invalid_encoding(b58: str) -> None:
    """publicKeyBase58 must be canonical Bitcoin-alphabet base58."""
    method = {"type": "Ed25519VerificationKey2018", "publicKeyBase58": b58}
    assert code_of(public_key_of, method) == Code.INVALID_ENCODING


def test_ed25519_2018_wrong_length_is_invalid_key() -> None:
    """publicKeyBase58 of 31 bytes is not an Ed25519 key."""
    method = {
        "type": "Ed25519VerificationKey2018",
        "publicKeyBase58": base58.b58encode(b"\x42" * 31).decode(),
    }
    assert code_of(public_key_of, method) == Code.INVALID_KEY
