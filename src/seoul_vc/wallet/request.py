"""Signed presentation requests: OpenID4VP 1.0 Request Objects carrying a DCQL query.

Room: wallet requests. A receiving agency asks for claims with a Request Object (OpenID4VP
1.0 §5; JWT-Secured Authorization Request, RFC 9101): a JWT with header ``typ``
``oauth-authz-req+jwt`` (RFC 9101 §10.8) signed by the verifier's DID key, ``kid`` a DID URL
of that DID. Its claims:

* ``response_type``: ``vp_token`` (OpenID4VP 1.0 §5.1);
* ``client_id``: ``decentralized_identifier:<DID>`` — the Client Identifier Prefix for DIDs
  (OpenID4VP 1.0 §5.9.3): the request must be signed by a key of that DID, and ``kid`` must
  be a DID URL of it. The KB-JWT's ``aud`` is this whole ``client_id`` (§B.3.6, SD-JWT VC);
* ``nonce``: the verifier's fresh nonce (§5.2), bound into the KB-JWT;
* ``dcql_query``: what is asked (§6). This library implements the subset a consent needs:
  ``credentials`` of 1 to 8 Credential Queries, each with ``id`` (§6.1: alphanumerics,
  ``_``, ``-``), ``format`` ``dc+sd-jwt``, ``meta.vct_values`` (§B.3.5) and ``claims`` with
  ``path`` arrays (§7: strings, non-negative integers, ``null``). ``claim_sets``,
  ``credential_sets``, ``values`` and ``trusted_authorities`` are refused rather than
  ignored, so a wallet never under-reads what was asked;
* ``purpose``: a human-readable reason shown to the citizen (a seoul_vc extension
  parameter, OpenID4VP 1.0 §5.1 allows them);
* ``iat`` and ``exp``: the request's lifetime, checked against the wallet's clock;
* optionally ``response_mode`` ``direct_post`` with its ``response_uri`` (§8.2): the
  ``https`` URL, without userinfo or fragment, the wallet POSTs the response to (the request
  is signed by the ``client_id`` DID, which is what makes the wallet trust that URL, §14.4.1;
  ``redirect_uri`` must then be absent), and ``state`` (§5.2: URL-safe characters), echoed in
  the response so the verifier finds its session. Any other ``response_mode`` is refused.

Example:
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.wallet.request import CredentialQuery, create_request, open_request
    >>> agency = PrivateKey.generate()
    >>> query = CredentialQuery(id="residency", vct_values=("https://example/residency",),
    ...                         claims=(("address", "district"),))
    >>> token = create_request(agency, nonce="n-0S6_WzA2Mj", purpose="youth housing",
    ...                        credentials=(query,), iat=1767225600)
    >>> open_request(token, now=1767225700).credentials[0].claims
    (('address', 'district'),)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.issuer import did_of, kid_of
from seoul_vc.credentials.sd_jwt import ClaimPath
from seoul_vc.did import Resolver, resolve_verification_method, self_certifying_key
from seoul_vc.did.syntax import split_did_url
from seoul_vc.errors import Code, MalformedInputError, VerificationError
from seoul_vc.jose import decode_jwt, encode_jwt, parse_compact
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.limits import Limits

__all__ = [
    "CLIENT_ID_PREFIX",
    "DIRECT_POST",
    "REQUEST_TYP",
    "CredentialQuery",
    "PresentationRequest",
    "claimed_verifier",
    "create_request",
    "open_request",
]

REQUEST_TYP: Final = "oauth-authz-req+jwt"
#: OpenID4VP 1.0 §5.9.3 Client Identifier Prefix of verifiers identified by a DID.
CLIENT_ID_PREFIX: Final = "decentralized_identifier:"
_QUERY_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NONCE_RE: Final = re.compile(r"[\x21-\x7e]{8,256}")
_MAX_CREDENTIALS: Final = 8
_MAX_CLAIMS: Final = 64
_MAX_PATH: Final = 16
_MAX_PURPOSE: Final = 500
_STATE_RE: Final = re.compile(r"[A-Za-z0-9._~-]{1,256}")
_URI_RE: Final = re.compile(r"[\x21-\x7e]{1,2048}")
#: OpenID4VP 1.0 §8.2: the only Response Mode this library sends or answers.
DIRECT_POST: Final = "direct_post"
_DEFAULT_LIFETIME: Final = timedelta(minutes=10)
_DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialQuery:
    """One DCQL Credential Query (OpenID4VP 1.0 §6.1) of format ``dc+sd-jwt``.

    Attributes:
        id: the query's id, echoed as the key of the presentation in ``vp_token``.
        vct_values: the accepted SD-JWT VC types (§B.3.5).
        claims: the requested claim paths (§7), relative to the SD-JWT VC claims.
    """

    id: str
    vct_values: tuple[str, ...]
    claims: tuple[ClaimPath, ...]

    def to_json(self) -> JSONObject:
        """Return the Credential Query as DCQL JSON."""
        return {
            "id": self.id,
            "format": "dc+sd-jwt",
            "meta": {"vct_values": list(self.vct_values)},
            "claims": [{"path": list(path)} for path in self.claims],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PresentationRequest:
    """A verified presentation request.

    Attributes:
        verifier: the verifier's DID (``client_id`` without its prefix).
        client_id: ``decentralized_identifier:<DID>``: the KB-JWT audience.
        nonce: the verifier's nonce.
        purpose: why the verifier asks, to show the citizen.
        credentials: the DCQL Credential Queries.
        iat, exp: the request's lifetime (POSIX seconds).
        response_mode: ``direct_post``, or None (no Response Mode named).
        response_uri: where a ``direct_post`` response goes (§8.2), or None.
        state: the verifier's ``state``, echoed in the response, or None.
    """

    verifier: str
    client_id: str
    nonce: str
    purpose: str
    credentials: tuple[CredentialQuery, ...]
    iat: int
    exp: int
    response_mode: str | None = None
    response_uri: str | None = None
    state: str | None = None

    def query(self, query_id: str) -> CredentialQuery | None:
        """Return the Credential Query with this id, if any."""
        return next((q for q in self.credentials if q.id == query_id), None)


def _malformed(message: str, field: str) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, field=field)


def _path(value: JSONValue) -> ClaimPath:
    if not isinstance(value, list) or not 0 < len(value) <= _MAX_PATH:
        raise _malformed(f"a claim path is 1 to {_MAX_PATH} components", "path")
    out: list[str | int | None] = []
    for step in value:
        if (
            step is None
            or (isinstance(step, str) and 0 < len(step) <= 256)
            or (isinstance(step, int) and not isinstance(step, bool) and 0 <= step < 2**31)
        ):
            out.append(step)
        else:
            raise _malformed("a claim path component is a string, an index or null", "path")
    if not isinstance(out[0], str):
        raise _malformed("a claim path starts with a claim name", "path")
    return tuple(out)


def _credential_query(value: JSONValue) -> CredentialQuery:
    if not isinstance(value, dict):
        raise _malformed("a Credential Query is an object", "credentials")
    allowed = {"id", "format", "meta", "claims", "multiple", "require_cryptographic_holder_binding"}
    if not set(value) <= allowed or not {"id", "format", "meta", "claims"} <= set(value):
        raise _malformed(
            "a Credential Query is id/format/meta/claims (this wallet's DCQL subset)",
            "credentials",
        )
    query_id, fmt, meta, claims = value["id"], value["format"], value["meta"], value["claims"]
    if not isinstance(query_id, str) or _QUERY_ID_RE.fullmatch(query_id) is None:
        raise _malformed("a query id is 1 to 64 of A-Za-z0-9_-", "id")
    if fmt != "dc+sd-jwt":
        raise _malformed("only the dc+sd-jwt format is supported", "format")
    for flag in ("multiple", "require_cryptographic_holder_binding"):
        if flag in value and not isinstance(value[flag], bool):
            raise _malformed(f"{flag} is a boolean", flag)
    if value.get("multiple") is True or value.get("require_cryptographic_holder_binding") is False:
        raise _malformed("one holder-bound credential per query", "multiple")
    if not isinstance(meta, dict) or set(meta) != {"vct_values"}:
        raise _malformed("meta is vct_values", "meta")
    vcts = meta["vct_values"]
    if (
        not isinstance(vcts, list)
        or not 0 < len(vcts) <= 16
        or not all(isinstance(v, str) and 0 < len(v) <= 2048 for v in vcts)
    ):
        raise _malformed("vct_values is a non-empty list of strings", "vct_values")
    if not isinstance(claims, list) or not 0 < len(claims) <= _MAX_CLAIMS:
        raise _malformed(f"claims is 1 to {_MAX_CLAIMS} claim queries", "claims")
    paths: list[ClaimPath] = []
    for claim in claims:
        if not isinstance(claim, dict) or not {"path"} <= set(claim) <= {"id", "path"}:
            raise _malformed("a claim query is path (and id)", "claims")
        if "id" in claim and (
            not isinstance(claim["id"], str) or _QUERY_ID_RE.fullmatch(claim["id"]) is None
        ):
            raise _malformed("a claim query id is 1 to 64 of A-Za-z0-9_- (§6.3)", "claims")
        paths.append(_path(claim["path"]))
    if len(set(paths)) != len(paths):
        raise _malformed("claim paths are distinct", "claims")
    return CredentialQuery(id=query_id, vct_values=tuple(str(v) for v in vcts), claims=tuple(paths))


def parse_dcql(value: JSONValue) -> tuple[CredentialQuery, ...]:
    """Parse the DCQL subset (see the module docstring).

    Raises:
        MalformedInputError: ``malformed`` naming the field.
    """
    if not isinstance(value, dict) or set(value) != {"credentials"}:
        raise _malformed("dcql_query is credentials (this wallet's DCQL subset)", "dcql_query")
    credentials = value["credentials"]
    if not isinstance(credentials, list) or not 0 < len(credentials) <= _MAX_CREDENTIALS:
        raise _malformed(f"1 to {_MAX_CREDENTIALS} Credential Queries", "credentials")
    queries = tuple(_credential_query(c) for c in credentials)
    if len({q.id for q in queries}) != len(queries):
        raise _malformed("Credential Query ids are distinct (§6.1)", "id")
    return queries


def create_request(
    key: PrivateKey,
    *,
    nonce: str,
    purpose: str,
    credentials: Sequence[CredentialQuery],
    iat: int,
    lifetime: timedelta = _DEFAULT_LIFETIME,
    did: str | None = None,
    kid: str | None = None,
    response_uri: str | None = None,
    state: str | None = None,
) -> str:
    """Sign a Request Object for ``credentials`` as the verifier ``did``.

    Args:
        key: the verifier's signing key.
        nonce: a fresh nonce from the verifier's nonce store.
        purpose: the reason shown to the citizen.
        credentials: the Credential Queries.
        iat: issue time (POSIX seconds).
        lifetime: how long the request stays valid (sets ``exp``).
        did: the verifier's DID (default: did:key/did:jwk of ``key``).
        kid: the key's DID URL (default: derived for did:key/did:jwk).
        response_uri: ask for Response Mode ``direct_post`` to this ``https`` URL (§8.2).
        state: the ``state`` the response must echo (§5.2, URL-safe characters).

    Raises:
        MalformedInputError: ``malformed`` for queries outside the DCQL subset, a bad
            ``response_uri`` or ``state``.
    """
    verifier = did or did_of(key.public_key)
    dcql: JSONObject = {"credentials": [q.to_json() for q in credentials]}
    parse_dcql(dcql)  # the same checks the wallet runs
    claims: JSONObject = {
        "response_type": "vp_token",
        "client_id": CLIENT_ID_PREFIX + verifier,
        "nonce": nonce,
        "purpose": purpose,
        "dcql_query": dcql,
        "iat": iat,
        "exp": iat + int(lifetime.total_seconds()),
    }
    _check_text(nonce, purpose)
    if response_uri is not None:
        _check_response_uri(response_uri)
        claims["response_mode"] = DIRECT_POST
        claims["response_uri"] = response_uri
    if state is not None:
        _check_state(state)
        claims["state"] = state
    return encode_jwt(claims, key, typ=REQUEST_TYP, kid=kid or kid_of(verifier, key.public_key))


def _check_text(nonce: object, purpose: object) -> None:
    if not isinstance(nonce, str) or _NONCE_RE.fullmatch(nonce) is None:
        raise _malformed("nonce is 8 to 256 visible ASCII characters", "nonce")
    if not isinstance(purpose, str) or not 0 < len(purpose) <= _MAX_PURPOSE:
        raise _malformed(f"purpose is 1 to {_MAX_PURPOSE} characters", "purpose")


def _check_response_uri(value: object) -> str:
    """An absolute ``https`` URL without userinfo or fragment (§8.2, RFC 6749 §3.1.2)."""
    if not isinstance(value, str) or _URI_RE.fullmatch(value) is None:
        raise _malformed("response_uri is an https URL", "response_uri")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise _malformed("response_uri is an https URL", "response_uri") from exc
    if parts.scheme != "https" or not host or "@" in parts.netloc or "#" in value:
        raise _malformed("response_uri is https, without userinfo or fragment", "response_uri")
    return value


def _check_state(value: object) -> str:
    if not isinstance(value, str) or _STATE_RE.fullmatch(value) is None:
        raise _malformed("state is 1 to 256 URL-safe characters", "state")
    return value


def _response_parameters(claims: JSONObject) -> tuple[str | None, str | None, str | None]:
    """``(response_mode, response_uri, state)`` of a request's claims, checked (§8.2)."""
    mode, uri, state = claims.get("response_mode"), claims.get("response_uri"), claims.get("state")
    if mode is None and uri is not None:
        raise _malformed("response_uri needs response_mode direct_post", "response_mode")
    if mode is not None:
        if mode != DIRECT_POST:
            raise _malformed("the only supported response_mode is direct_post", "response_mode")
        if "redirect_uri" in claims:
            raise _malformed("direct_post requests carry no redirect_uri (§8.2)", "redirect_uri")
        uri = _check_response_uri(uri)
    return (
        None if mode is None else DIRECT_POST,
        None if uri is None else str(uri),
        None if state is None else _check_state(state),
    )


def open_request(
    token: str,
    *,
    now: int,
    resolver: Resolver | None = None,
    limits: Limits = _DEFAULT_LIMITS,
) -> PresentationRequest:
    """Verify a Request Object and return what it asks.

    Steps: (1) bounded parse, ``typ`` ``oauth-authz-req+jwt`` (RFC 9101 §10.8); (2) the
    ``kid`` DID URL must belong to the ``client_id`` DID (OpenID4VP 1.0 §5.9.3) and its key
    (did:key/did:jwk directly, else DID resolution) verifies the signature; (3) the claims:
    ``response_type``, ``nonce``, ``purpose``, ``iat``/``exp`` against ``now`` within
    ``Limits.clock_skew``, the DCQL subset, and ``response_mode``/``response_uri``/``state``
    when present.

    Raises:
        MalformedInputError: ``malformed`` for a bad shape; size and JWS errors.
        VerificationError: ``wrong_type``, ``did_mismatch``, ``invalid_signature``,
            ``expired``, ``not_yet_valid``.
    """
    # (1) Parse without trusting anything yet.
    jws = parse_compact(token, limits=limits)
    kid = jws.kid
    if kid is None or "#" not in kid:
        raise _malformed("the request's kid is a DID URL of the verifier", "kid")
    client_id = _client_id(_json_claims(jws.payload, limits))
    verifier = client_id[len(CLIENT_ID_PREFIX) :]
    # (2) The key comes from the client_id's DID, never from the token's headers.
    if split_did_url(kid)[0] != verifier:
        raise VerificationError(Code.DID_MISMATCH, "kid is not a key of the client_id DID")
    key: PublicKey | None = self_certifying_key(kid)
    if key is None:
        key = resolve_verification_method(kid, resolver=resolver, relationship=None).public_key
    claims = decode_jwt(token, key, typ=REQUEST_TYP, limits=limits).claims
    # (3) The claims.
    if claims.get("response_type") != "vp_token":
        raise _malformed("response_type is vp_token", "response_type")
    nonce, purpose = claims.get("nonce"), claims.get("purpose")
    _check_text(nonce, purpose)
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in (iat, exp)):
        raise _malformed("iat and exp are POSIX seconds", "exp")
    assert isinstance(iat, int)  # noqa: S101 - narrowed above
    assert isinstance(exp, int)  # noqa: S101
    skew = int(limits.clock_skew.total_seconds())
    if iat > now + skew:
        raise VerificationError(Code.NOT_YET_VALID, "the request was issued in the future")
    if exp <= now - skew or exp <= iat:
        raise VerificationError(Code.EXPIRED, "the request has expired")
    mode, response_uri, state = _response_parameters(claims)
    return PresentationRequest(
        verifier=verifier,
        client_id=client_id,
        nonce=str(nonce),
        purpose=str(purpose),
        credentials=parse_dcql(claims.get("dcql_query")),
        iat=iat,
        exp=exp,
        response_mode=mode,
        response_uri=response_uri,
        state=state,
    )


def claimed_verifier(token: str, *, limits: Limits = _DEFAULT_LIMITS) -> str | None:
    """Return the verifier DID a request claims (its ``client_id``), unverified.

    Reads the payload as step (1) of :func:`open_request` does (strict compact JWS, bounded
    JSON) and checks nothing else: the signature is not verified, so the answer may only
    serve to refuse a request early, before its DID is resolved (possibly over the
    network), and is never to be trusted or recorded. No I/O.

    Returns:
        The DID, or None when the token cannot be read or names no DID ``client_id``; then
        :func:`open_request` refuses it with its own code before resolving anything.
    """
    try:
        client_id = _client_id(_json_claims(parse_compact(token, limits=limits).payload, limits))
    except (MalformedInputError, VerificationError):
        return None
    return client_id[len(CLIENT_ID_PREFIX) :]


def _client_id(claims: JSONObject) -> str:
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or not client_id.startswith(CLIENT_ID_PREFIX):
        raise _malformed("client_id is decentralized_identifier:<DID>", "client_id")
    return client_id


def _json_claims(payload: bytes, limits: Limits) -> JSONObject:
    return _json.loads_object(
        payload, max_bytes=limits.max_token_bytes, max_depth=limits.max_json_depth, what="request"
    )
