"""The Citizen Card wallet's OpenID4VCI 1.0 client: accept a pre-authorized credential offer.

Room: wallet. :func:`accept_offer` runs the wallet's side of the pre-authorized code flow
(OpenID4VCI 1.0 §3.5) for a wallet of a :class:`~seoul_vc.wallet.WalletService`, over a
:class:`~seoul_vc._net.GuardedFetcher` (HTTPS only, no private addresses, one deadline, a
byte bound per answer):

0. Check the citizen's PIN before anything is fetched: a caller without it cannot make the
   service fetch URLs (an offer by reference, metadata and endpoints the offer names).
1. Parse the offer (§4.1): the ``openid-credential-offer://`` URI by value, the JSON object,
   or by reference (``credential_offer_uri``, fetched as ``application/json``). Its values
   are not trusted (§13.5).
2. Fetch the Credential Issuer Metadata (§12.2.2); its ``credential_issuer`` must equal the
   offer's. Every offered configuration must be ``dc+sd-jwt`` (what this wallet holds), bound
   to a ``jwk`` proven by a ``jwt`` proof in an ``alg`` of the holder key.
3. Refuse an issuer the wallet's trust policy does not trust for the offered types (by its
   did:web or its https identifier) *before* any code is sent: a transaction code is never
   given to an untrusted issuer (§13.6.2 "Transaction Code Phishing").
4. Fetch the Authorization Server Metadata (RFC 8414 §3; the issuer itself unless it names
   ``authorization_servers``): it must support the pre-authorized code grant anonymously
   (§12.3), since the wallet has no ``client_id``.
5. Get a ``c_nonce`` per credential (§7), then have the wallet sign the key proofs
   (:meth:`~seoul_vc.wallet.WalletService.sign_key_proofs`, PIN-authorised again): the
   pre-authorized code is spent only after that.
6. Token request (§6.1, form-encoded), then one credential request per configuration
   (§8.2, ``proofs.jwt``), then :meth:`~seoul_vc.wallet.WalletService.receive`, which
   verifies signature, issuer trust, schema, validity, status and the binding to the
   holder key before storing the credential encrypted.

An issuer's error answers become library errors by their ``error`` value
(:func:`~seoul_vc.credentials.oid4vci.code_of_oauth_error`), never by a code the issuer
chose; 5xx answers are ``unavailable``.

Example:
    >>> from seoul_vc.wallet.oid4vci import did_web_of_issuer
    >>> did_web_of_issuer("https://vc.seoul.example:8443/housing")
    'did:web:vc.seoul.example%3A8443:housing'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import quote, urlencode, urlsplit

from seoul_vc import _json
from seoul_vc._json import JSONObject
from seoul_vc._net import Answer, GuardedFetcher
from seoul_vc.credentials.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    AuthorizationServerMetadata,
    CredentialConfiguration,
    CredentialIssuerMetadata,
    CredentialOffer,
    authorization_server_metadata_url,
    code_of_oauth_error,
    credential_issuer_metadata_url,
    offer_reference,
    parse_credential_offer,
)
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    UnavailableError,
    error_for,
)
from seoul_vc.limits import Limits
from seoul_vc.wallet.wallet import HeldCredential, WalletService

__all__ = ["accept_offer", "did_web_of_issuer"]

_JSON: Final = "application/json"
_FORM: Final = "application/x-www-form-urlencoded"
_MAX_ACCESS_TOKEN: Final = 4096


def _malformed(message: str, **details: str | int) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, **details)


def did_web_of_issuer(identifier: str) -> str:
    """Return the did:web DID of an https issuer identifier's host and path (did:web §3.2)."""
    parts = urlsplit(identifier)
    host = parts.hostname or ""
    authority = host if parts.port is None else f"{host}%3A{parts.port}"
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", authority, *segments])


def _get_json(fetcher: GuardedFetcher, url: str, what: str, limits: Limits) -> JSONObject:
    fetched = fetcher.get(url, accept=_JSON, max_bytes=limits.max_issuer_metadata_bytes, what=what)
    if fetched.media_type != _JSON:
        raise _malformed(f"the {what} is not application/json")
    return _json.loads_object(
        fetched.body,
        max_bytes=limits.max_issuer_metadata_bytes,
        max_depth=limits.max_json_depth,
        what=what,
    )


def _answer_json(answer: Answer, what: str, limits: Limits) -> JSONObject:
    """The JSON object of a 2xx answer; the issuer's refusal as a library error otherwise."""
    if answer.status >= 500:
        raise UnavailableError(
            Code.UNAVAILABLE, f"the issuer failed the {what}", status=answer.status
        )
    body: JSONObject | None = None
    if answer.media_type == _JSON:
        try:
            body = _json.loads_object(
                answer.body,
                max_bytes=limits.max_token_bytes * 2,
                max_depth=limits.max_json_depth,
                what=what,
            )
        except MalformedInputError:
            body = None
    if answer.status not in (200, 201):
        error = None if body is None else body.get("error")
        named = error[:64] if isinstance(error, str) and error.isascii() else "none"
        raise error_for(
            code_of_oauth_error(error),
            f"the issuer refused the {what}",
            status=answer.status,
            issuer_error=named,
        )
    if body is None:
        raise _malformed(f"the {what} is not a JSON object")
    return body


def _read_offer(offer: str, fetcher: GuardedFetcher, limits: Limits) -> CredentialOffer:
    text = offer.strip()
    reference = offer_reference(text)
    if reference is None:
        return parse_credential_offer(text, limits=limits)
    fetched = fetcher.get(
        reference,
        accept=_JSON,
        max_bytes=limits.max_issuer_metadata_bytes,
        what="credential offer",
    )
    if fetched.media_type != _JSON:
        raise _malformed("a credential offer by reference is application/json (§4.1.3)")
    return parse_credential_offer(fetched.body, limits=limits)


def _check_tx_code(offer: CredentialOffer, tx_code: str | None) -> None:
    expected = offer.tx_code
    if expected is None:
        if tx_code is not None:
            raise ConfigurationError(Code.BAD_ARGUMENT, "this offer takes no transaction code")
        return
    if not tx_code:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "this offer needs the transaction code the issuer sent"
        )
    if (expected.input_mode == "numeric" and not (tx_code.isascii() and tx_code.isdigit())) or (
        expected.length is not None and len(tx_code) != expected.length
    ):
        # Refused here, so a mistyped code does not spend one of the issuer's few tries.
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "the transaction code does not have the offered form"
        )


def _configurations(
    offer: CredentialOffer, metadata: CredentialIssuerMetadata, holder_alg: str
) -> list[CredentialConfiguration]:
    out = []
    for configuration_id in offer.credential_configuration_ids:
        configuration = metadata.configurations.get(configuration_id)
        if configuration is None:
            raise NotFoundError(
                Code.UNKNOWN_CREDENTIAL_CONFIGURATION,
                "the issuer's metadata does not describe an offered configuration",
            )
        if configuration.format != "dc+sd-jwt":
            raise ConfigurationError(Code.BAD_ARGUMENT, "this wallet holds dc+sd-jwt credentials")
        if "jwk" not in configuration.binding_methods or holder_alg not in configuration.proof_algs:
            raise ConfigurationError(
                Code.BAD_ARGUMENT, "the issuer does not bind to this wallet's holder key"
            )
        out.append(configuration)
    return out


def _check_trust(
    service: WalletService, issuer: str, configurations: list[CredentialConfiguration]
) -> None:
    trust = service._trust
    did = did_web_of_issuer(issuer)
    for configuration in configurations:
        type_name = configuration.type_name or configuration.vct or ""
        if not (trust.may_issue(did, type_name) or trust.may_issue(issuer, type_name)):
            raise PolicyError(
                Code.UNTRUSTED_ISSUER,
                "this wallet does not trust the offering issuer for the offered credential",
                type=type_name[:128],
            )


def _authorization_server(
    offer: CredentialOffer, metadata: CredentialIssuerMetadata, fetcher: GuardedFetcher,
    limits: Limits,
) -> AuthorizationServerMetadata:  # fmt: skip
    servers = metadata.authorization_servers
    if offer.authorization_server is not None and offer.authorization_server not in servers:
        raise _malformed("the offer's authorization_server is not one of the issuer's (§4.1.1)")
    identifier = offer.authorization_server or (servers[0] if servers else offer.credential_issuer)
    server = AuthorizationServerMetadata.from_json(
        _get_json(
            fetcher,
            authorization_server_metadata_url(identifier),
            "authorization server metadata",
            limits,
        ),
        expected_issuer=identifier,
    )
    if PRE_AUTHORIZED_GRANT not in server.grant_types or not server.anonymous:
        raise PolicyError(
            Code.CREDENTIAL_REQUEST_DENIED,
            "the authorization server does not take anonymous pre-authorized codes",
        )
    return server


def _nonce(fetcher: GuardedFetcher, endpoint: str, limits: Limits) -> str:
    answer = fetcher.post(
        endpoint,
        body=b"",
        content_type=_FORM,
        accept=_JSON,
        max_bytes=limits.max_issuer_metadata_bytes,
        what="nonce request",
    )
    nonce = _answer_json(answer, "nonce request", limits).get("c_nonce")
    if not isinstance(nonce, str) or not nonce or len(nonce) > 512:
        raise _malformed("the nonce response has no c_nonce")
    return nonce


def _access_token(
    fetcher: GuardedFetcher,
    server: AuthorizationServerMetadata,
    offer: CredentialOffer,
    tx_code: str | None,
    limits: Limits,
) -> str:
    fields: Mapping[str, str] = {
        "grant_type": PRE_AUTHORIZED_GRANT,
        "pre-authorized_code": offer.pre_authorized_code,
        **({"tx_code": tx_code} if tx_code is not None else {}),
    }
    answer = fetcher.post(
        server.token_endpoint,
        body=urlencode(fields).encode("ascii"),
        content_type=_FORM,
        accept=_JSON,
        max_bytes=limits.max_issuer_metadata_bytes,
        what="token request",
    )
    body = _answer_json(answer, "token request", limits)
    token, token_type = body.get("access_token"), body.get("token_type")
    if not isinstance(token, str) or not token or len(token) > _MAX_ACCESS_TOKEN:
        raise _malformed("the token response has no access_token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        # RFC 6749 §7.1: the type is case-insensitive; DPoP-bound tokens are not supported.
        raise _malformed("the token response's token_type is not Bearer")
    if not token.isascii() or not token.isprintable() or " " in token:
        raise _malformed("the access token is not a bearer token (RFC 6750 §2.1)")
    return token


def _credential(
    fetcher: GuardedFetcher,
    endpoint: str,
    access_token: str,
    configuration: CredentialConfiguration,
    proof: str,
    limits: Limits,
) -> str:
    request: JSONObject = {
        "credential_configuration_id": configuration.id,
        "proofs": {"jwt": [proof]},
    }
    answer = fetcher.post(
        endpoint,
        body=_json.dumps(request),
        content_type=_JSON,
        accept=_JSON,
        max_bytes=limits.max_token_bytes * 2,
        what="credential request",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    if answer.status == 202:
        raise PolicyError(Code.CREDENTIAL_REQUEST_DENIED, "deferred issuance (§9) is not supported")
    credentials = _answer_json(answer, "credential request", limits).get("credentials")
    if (
        not isinstance(credentials, list)
        or len(credentials) != 1
        or not isinstance(credentials[0], dict)
        or not isinstance(credentials[0].get("credential"), str)
    ):
        raise _malformed("the credential response holds not exactly one credential string")
    return str(credentials[0]["credential"])


def accept_offer(
    service: WalletService,
    wallet_id: str,
    pin: str,
    offer: str,
    *,
    fetcher: GuardedFetcher,
    tx_code: str | None = None,
    limits: Limits | None = None,
) -> list[HeldCredential]:
    """Accept a credential offer into a wallet (see the module docstring for the steps).

    Args:
        service: the wallet service.
        wallet_id: the citizen's wallet.
        pin: its PIN (authorises the key proofs).
        offer: the offer URI (by value or by reference) or its JSON object.
        fetcher: the guarded HTTPS fetcher for every request to the issuer.
        tx_code: the transaction code, when the offer asks for one.
        limits: answer size bounds (default ``Limits()``).

    Returns:
        The credentials stored, one per offered configuration.

    Raises:
        MalformedInputError: the offer, a metadata document or an answer is malformed.
        ConfigurationError: ``bad_argument`` for a missing, unexpected or ill-formed
            transaction code, or an offer this wallet cannot hold (not ``dc+sd-jwt``, not
            bound to its key).
        VerificationError: ``issuer_mismatch`` for metadata of another issuer; the
            credential's own verification failures.
        PolicyError: ``untrusted_issuer``; ``unlock_failed`` (wrong PIN, before any fetch);
            the issuer's ``invalid_grant`` and ``credential_request_denied``;
            ``address_refused``, ``insecure_transport``.
        NotFoundError: ``not_found`` (wallet, documents), ``unknown_credential_configuration``.
        StateConflictError: ``wallet_locked``; the issuer's ``invalid_nonce``.
        UnavailableError: the issuer is unreachable or failed.
    """
    limits = limits or Limits()
    # The PIN before anything is fetched: a caller without it (the wallet id is no secret to
    # the agencies a citizen deals with) must not make the service fetch or POST to URLs, nor
    # tell from the answer whether the wallet exists.
    service.credentials(wallet_id, pin)
    holder = service.holder_public_key(wallet_id)
    parsed = _read_offer(offer, fetcher, limits)
    _check_tx_code(parsed, tx_code)
    metadata = CredentialIssuerMetadata.from_json(
        _get_json(
            fetcher,
            credential_issuer_metadata_url(parsed.credential_issuer),
            "credential issuer metadata",
            limits,
        ),
        expected_issuer=parsed.credential_issuer,
    )
    configurations = _configurations(parsed, metadata, holder.alg.value)
    _check_trust(service, parsed.credential_issuer, configurations)
    server = _authorization_server(parsed, metadata, fetcher, limits)
    nonces: list[str | None] = [
        None
        if metadata.nonce_endpoint is None
        else _nonce(fetcher, metadata.nonce_endpoint, limits)
        for _ in configurations
    ]
    proofs = service.sign_key_proofs(
        wallet_id, pin, audience=parsed.credential_issuer, nonces=nonces
    )
    access_token = _access_token(fetcher, server, parsed, tx_code, limits)
    tokens = [
        _credential(
            fetcher, metadata.credential_endpoint, access_token, configuration, proof, limits
        )
        for configuration, proof in zip(configurations, proofs, strict=True)
    ]
    return [service.receive(wallet_id, token) for token in tokens]
