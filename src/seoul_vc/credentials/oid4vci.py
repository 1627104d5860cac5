"""OpenID for Verifiable Credential Issuance 1.0: offers, metadata and key proofs, no storage.

The protocol pieces both sides need; the issuer's state lives in :mod:`seoul_vc.issuance`,
the wallet's client in :mod:`seoul_vc.wallet.oid4vci`. Sections are those of OpenID4VCI 1.0
(final, 2025):

* **Credential Offer** (§4.1): :class:`CredentialOffer` with the pre-authorized code grant
  ``urn:ietf:params:oauth:grant-type:pre-authorized_code`` (``pre-authorized_code``,
  optional ``tx_code`` object: ``input_mode``, ``length``, ``description`` of at most 300
  characters), sent by value as ``openid-credential-offer://?credential_offer=<JSON>``
  (§4.1.2) or by reference with ``credential_offer_uri`` (§4.1.3, an ``https`` URL).
  Unrecognised members are ignored (§4.1.1); only the pre-authorized code grant is read.
* **Credential Issuer Metadata** (§12.2) at ``/.well-known/openid-credential-issuer``
  inserted between host and path (§12.2.2); its ``credential_issuer`` must equal the
  identifier it was fetched for, by simple string comparison, or it is not used (§12.2.4,
  ``issuer_mismatch``). **Authorization Server Metadata** (RFC 8414 §3, with OpenID4VCI
  §12.3 ``pre-authorized_grant_anonymous_access_supported``), whose ``issuer`` must be
  identical too (RFC 8414 §3.3).
* **Credential configurations** (§12.2.4, Appendix A.3): ``dc+sd-jwt`` with ``vct``, and
  the Seoul profile ``vc+jwt`` (``<Type>_vc+jwt``; see :func:`seoul_configurations`), both
  bound to a ``jwk`` proven by a ``jwt`` key proof.
* **Key proofs** (Appendix F.1, checked as F.4 lists): :func:`format_key_proof` and
  :func:`check_key_proof`. The proof is a JWT typed ``openid4vci-proof+jwt`` whose ``jwk``
  header is the key the credential will be bound to, with ``aud`` the Credential Issuer
  Identifier, ``iat`` and ``nonce`` the server's ``c_nonce``. ``kid``, ``x5c``, ``jku``,
  ``x5u``, ``trust_chain`` and ``key_attestation`` are refused (we bind to ``jwk`` only),
  as are ``alg: none``/HMAC, a ``jwk`` with private members, weak or unsupported keys, and
  an ``iat`` older than ``Limits.kb_jwt_max_age`` or in the future beyond
  ``Limits.clock_skew``. Every refusal is ``invalid_proof`` with ``details["reason"]``;
  whether the ``c_nonce`` is one the issuer gave out is the issuer's check
  (``invalid_nonce``).
* **Errors**: :func:`oauth_error` names the RFC 6749 §5.2 / RFC 6750 §3.1 / OpenID4VCI
  §8.3.1.2 ``error`` of a library code; :func:`code_of_oauth_error` reads one back.

Example:
    >>> from seoul_vc.credentials.oid4vci import check_key_proof, format_key_proof
    >>> from seoul_vc.keys import PrivateKey
    >>> holder = PrivateKey.generate("ES256")
    >>> proof = format_key_proof(holder, audience="https://vc.seoul.example",
    ...                          nonce="n-1", iat=1_800_000_000)
    >>> checked = check_key_proof(proof, audience="https://vc.seoul.example", now=1_800_000_010)
    >>> (checked.key == holder.public_key, checked.nonce)
    (True, 'n-1')
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qsl, quote, urlsplit

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.metadata import WELL_KNOWN_PATH, issuer_metadata_url
from seoul_vc.credentials.sd_jwt import ClaimPath
from seoul_vc.credentials.types import CREDENTIAL_TYPES
from seoul_vc.errors import (
    Code,
    MalformedInputError,
    SeoulVCError,
    VerificationError,
)
from seoul_vc.jose import check_signature, encode_jwt, parse_compact, typ_matches
from seoul_vc.keys import PrivateKey, PublicKey
from seoul_vc.limits import Limits

__all__ = [
    "AS_WELL_KNOWN",
    "ISSUER_WELL_KNOWN",
    "OFFER_SCHEME",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_ALGORITHMS",
    "PROOF_TYP",
    "AuthorizationServerMetadata",
    "CredentialConfiguration",
    "CredentialIssuerMetadata",
    "CredentialOffer",
    "KeyProof",
    "TxCode",
    "authorization_server_metadata_url",
    "check_key_proof",
    "code_of_oauth_error",
    "credential_issuer_metadata_url",
    "format_key_proof",
    "oauth_error",
    "offer_reference",
    "parse_credential_offer",
    "seoul_configurations",
]

#: The Pre-Authorized Code grant type (OpenID4VCI 1.0 §4.1.1).
PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
#: The ``typ`` of a ``jwt`` key proof (Appendix F.1).
PROOF_TYP: Final = "openid4vci-proof+jwt"
#: The ``alg`` values a key proof may use (the JOSE allow-list: no ``none``, no HMAC).
PROOF_ALGORITHMS: Final = ("ES256", "EdDSA", "Ed25519")
#: The URI scheme of offers handed to a wallet by link or QR code (§4.1.2).
OFFER_SCHEME: Final = "openid-credential-offer://"
ISSUER_WELL_KNOWN: Final = "/.well-known/openid-credential-issuer"
AS_WELL_KNOWN: Final = "/.well-known/oauth-authorization-server"
#: The Seoul profile's configuration id suffix for ``vc+jwt`` (see the module docstring).
VC_JWT_SUFFIX: Final = "_vc+jwt"

_MAX_URL: Final = 2048
_MAX_ID: Final = 256
_MAX_CODE: Final = 1024
_MAX_OFFERED: Final = 16
_MAX_CONFIGURATIONS: Final = 256
_MAX_DESCRIPTION: Final = 300
# Header members that name or carry a key other than jwk, or that we do not evaluate.
_REFUSED_HEADERS: Final = ("kid", "x5c", "x5u", "jku", "trust_chain", "key_attestation")
_DEFAULT_LIMITS: Final = Limits()
_RFC8414_DEFAULT_GRANTS: Final = ("authorization_code", "implicit")


def _malformed(message: str, **details: str | int) -> MalformedInputError:
    return MalformedInputError(Code.MALFORMED, message, **details)


# -- small strict readers -----------------------------------------------------------------------


def _text(doc: Mapping[str, JSONValue], name: str, *, max_len: int, required: bool = True) -> str:
    value = doc.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise _malformed(f"{name} is a non-empty string of at most {max_len} characters")
    return value


def _texts(
    value: JSONValue, name: str, *, max_items: int, max_len: int = _MAX_ID
) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > max_items:
        raise _malformed(f"{name} is a non-empty array of at most {max_items} strings")
    out = tuple(value)
    if not all(isinstance(v, str) and v and len(v) <= max_len for v in out):
        raise _malformed(f"{name} holds non-empty strings only")
    if len(set(out)) != len(out):
        raise _malformed(f"{name} repeats a value")
    return tuple(str(v) for v in out)


def _https_url(value: object, name: str) -> str:
    """An absolute ``https`` URL (endpoints may carry a port, path and query, §12.2.4)."""
    if not isinstance(value, str) or not value or len(value) > _MAX_URL:
        raise _malformed(f"{name} is an https URL")
    if not value.isascii() or any(ch <= " " or ch == "\x7f" for ch in value):
        raise _malformed(f"{name} has spaces, controls or non-ASCII characters")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise _malformed(f"{name} is not a URL") from None
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc or parts.fragment:
        raise _malformed(f"{name} is an https URL without userinfo or fragment")
    return value


def _identifier(value: object, name: str) -> str:
    """A Credential Issuer or Authorization Server identifier (§12.2.1, RFC 8414 §2)."""
    if not isinstance(value, str):
        raise _malformed(f"{name} is an https URL")
    issuer_metadata_url(value)  # https, host, port, path; no userinfo, query or fragment
    return value


def _well_known(identifier: str, suffix: str) -> str:
    # The jwt-vc-issuer rule inserts its string between host and path exactly as §12.2.2
    # and RFC 8414 §3.1 insert theirs; the authority holds no "/", so the first match is it.
    return issuer_metadata_url(identifier).replace(WELL_KNOWN_PATH, suffix, 1)


def credential_issuer_metadata_url(identifier: str) -> str:
    """Return where a Credential Issuer's metadata lives (OpenID4VCI 1.0 §12.2.2).

    >>> credential_issuer_metadata_url("https://issuer.example.com/tenant")
    'https://issuer.example.com/.well-known/openid-credential-issuer/tenant'

    Raises:
        MalformedInputError, PolicyError: for an identifier that is not an https URL with a
            host and optional port and path (see
            :func:`seoul_vc.credentials.metadata.issuer_metadata_url`).
    """
    return _well_known(identifier, ISSUER_WELL_KNOWN)


def authorization_server_metadata_url(identifier: str) -> str:
    """Return where an Authorization Server's metadata lives (RFC 8414 §3.1).

    >>> authorization_server_metadata_url("https://as.example.com")
    'https://as.example.com/.well-known/oauth-authorization-server'
    """
    return _well_known(identifier, AS_WELL_KNOWN)


# -- credential offers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TxCode:
    """The ``tx_code`` object of a pre-authorized code grant (§4.1.1).

    Attributes:
        input_mode: ``numeric`` (digits only, the default) or ``text``.
        length: the code's length, if the issuer says.
        description: how the holder gets the code (at most 300 characters).
    """

    input_mode: Literal["numeric", "text"] = "numeric"
    length: int | None = None
    description: str | None = None

    def to_json(self) -> JSONObject:
        """Return the ``tx_code`` object."""
        out: JSONObject = {"input_mode": self.input_mode}
        if self.length is not None:
            out["length"] = self.length
        if self.description is not None:
            out["description"] = self.description
        return out

    @classmethod
    def from_json(cls, doc: JSONValue) -> TxCode:
        """Read a ``tx_code`` object (members other than the three are ignored).

        Raises:
            MalformedInputError: ``malformed`` for a bad member.
        """
        if not isinstance(doc, dict):
            raise _malformed("tx_code is an object")
        mode = doc.get("input_mode", "numeric")
        if mode not in ("numeric", "text"):
            raise _malformed("tx_code.input_mode is numeric or text")
        length = doc.get("length")
        if length is not None and (type(length) is not int or not 1 <= length <= 64):
            raise _malformed("tx_code.length is an integer from 1 to 64")
        description = doc.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > _MAX_DESCRIPTION
        ):
            raise _malformed("tx_code.description is a string of at most 300 characters")
        return cls(
            input_mode="numeric" if mode == "numeric" else "text",
            length=length,
            description=description,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialOffer:
    """A Credential Offer with the pre-authorized code grant (OpenID4VCI 1.0 §4.1.1).

    Attributes:
        credential_issuer: the Credential Issuer Identifier (an https URL).
        credential_configuration_ids: the offered configurations (non-empty, unique).
        pre_authorized_code: the code the wallet trades at the token endpoint (a secret).
        tx_code: present when the token request needs a transaction code.
        authorization_server: which of the issuer's authorization servers to use, if named.
    """

    credential_issuer: str
    credential_configuration_ids: tuple[str, ...]
    pre_authorized_code: str = field(repr=False)
    tx_code: TxCode | None = None
    authorization_server: str | None = None

    def to_json(self) -> JSONObject:
        """Return the Credential Offer object."""
        grant: JSONObject = {"pre-authorized_code": self.pre_authorized_code}
        if self.tx_code is not None:
            grant["tx_code"] = self.tx_code.to_json()
        if self.authorization_server is not None:
            grant["authorization_server"] = self.authorization_server
        return {
            "credential_issuer": self.credential_issuer,
            "credential_configuration_ids": list(self.credential_configuration_ids),
            "grants": {PRE_AUTHORIZED_GRANT: grant},
        }

    def to_uri(self) -> str:
        """Return the offer by value: ``openid-credential-offer://?credential_offer=...``."""
        text = _json.dumps(self.to_json()).decode()
        return f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}"

    @classmethod
    def from_json(cls, doc: JSONValue) -> CredentialOffer:
        """Read and check a Credential Offer object.

        Raises:
            MalformedInputError: ``malformed`` for a missing or bad parameter, or an offer
                without the pre-authorized code grant (the only one this wallet uses).
            PolicyError: ``insecure_transport`` for an ``http:`` issuer.
        """
        if not isinstance(doc, dict):
            raise _malformed("a credential offer is a JSON object")
        issuer = _identifier(doc.get("credential_issuer"), "credential_issuer")
        ids = _texts(
            doc.get("credential_configuration_ids"),
            "credential_configuration_ids",
            max_items=_MAX_OFFERED,
        )
        grants = doc.get("grants")
        if not isinstance(grants, dict) or not isinstance(grants.get(PRE_AUTHORIZED_GRANT), dict):
            raise _malformed("the offer has no pre-authorized code grant")
        grant = grants[PRE_AUTHORIZED_GRANT]
        assert isinstance(grant, dict)  # noqa: S101 - checked just above
        code = _text(grant, "pre-authorized_code", max_len=_MAX_CODE)
        tx_code = TxCode.from_json(grant["tx_code"]) if "tx_code" in grant else None
        server = grant.get("authorization_server")
        if server is not None:
            server = _identifier(server, "authorization_server")
        return cls(
            credential_issuer=issuer,
            credential_configuration_ids=ids,
            pre_authorized_code=code,
            tx_code=tx_code,
            authorization_server=server,
        )


def _offer_parameters(text: str) -> dict[str, str]:
    if len(text) > _MAX_URL * 16:
        raise MalformedInputError(Code.TOO_LARGE, "the credential offer is too large")
    if not text.startswith(OFFER_SCHEME):
        raise _malformed(f"a credential offer is {OFFER_SCHEME}?... or a JSON object")
    query = text[len(OFFER_SCHEME) :]
    if not query.startswith("?"):
        raise _malformed("the credential offer URI has no query")
    try:
        pairs = parse_qsl(query[1:], strict_parsing=True, errors="strict", max_num_fields=4)
    except (ValueError, UnicodeDecodeError):
        raise _malformed("the credential offer URI's query does not parse") from None
    names = [name for name, _ in pairs]
    if len(names) != 1 or names[0] not in ("credential_offer", "credential_offer_uri"):
        raise _malformed("an offer URI has exactly one of credential_offer, credential_offer_uri")
    return dict(pairs)


def offer_reference(text: str) -> str | None:
    """Return the ``credential_offer_uri`` of an offer by reference, or None (§4.1.3).

    Raises:
        MalformedInputError: for an offer URI that does not parse or an ``https`` reference
            that is not one.
    """
    if text.lstrip().startswith("{"):
        return None
    reference = _offer_parameters(text).get("credential_offer_uri")
    return None if reference is None else _https_url(reference, "credential_offer_uri")


def parse_credential_offer(
    text: str | bytes, *, limits: Limits = _DEFAULT_LIMITS
) -> CredentialOffer:
    """Parse an offer by value: the ``openid-credential-offer://`` URI or the JSON object.

    For an offer by reference, fetch :func:`offer_reference` first and pass the body here.

    Raises:
        MalformedInputError: as :meth:`CredentialOffer.from_json`, ``too_large``,
            ``duplicate_key`` and the other strict JSON codes; ``malformed`` for an offer by
            reference.
    """
    if isinstance(text, bytes):
        body: str | bytes = text
    elif text.lstrip().startswith("{"):
        body = text
    else:
        value = _offer_parameters(text).get("credential_offer")
        if value is None:
            raise _malformed("this offer is by reference: fetch its credential_offer_uri")
        body = value
    doc = _json.loads_object(
        body,
        max_bytes=limits.max_issuer_metadata_bytes,
        max_depth=limits.max_json_depth,
        what="credential offer",
    )
    return CredentialOffer.from_json(doc)


# -- metadata -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialConfiguration:
    """One entry of ``credential_configurations_supported`` (§12.2.4, Appendix A).

    Attributes:
        id: its identifier; format: ``dc+sd-jwt``, ``vc+jwt`` (Seoul profile) or another.
        vct: the SD-JWT VC type (``dc+sd-jwt``, Appendix A.3.2).
        types: ``credential_definition.type`` (VC formats).
        binding_methods: ``cryptographic_binding_methods_supported``.
        signing_algs: ``credential_signing_alg_values_supported``.
        proof_algs: ``proof_types_supported.jwt.proof_signing_alg_values_supported``.
        display: ``credential_metadata.display``; claims: its ``claims`` paths.
    """

    id: str
    format: str
    vct: str | None = None
    types: tuple[str, ...] = ()
    binding_methods: tuple[str, ...] = ()
    signing_algs: tuple[str, ...] = ()
    proof_algs: tuple[str, ...] = ()
    display: tuple[JSONObject, ...] = ()
    claims: tuple[ClaimPath, ...] = ()

    @property
    def type_name(self) -> str | None:
        """The Seoul credential type this configuration issues, if it is one of ours."""
        for ctype in CREDENTIAL_TYPES.values():
            if (self.vct is not None and ctype.vct == self.vct) or (
                self.types and self.types[-1] == ctype.name
            ):
                return ctype.name
        return None

    def to_json(self) -> JSONObject:
        """Return the configuration object (without its id, which is its key)."""
        out: JSONObject = {"format": self.format}
        if self.vct is not None:
            out["vct"] = self.vct
        if self.types:
            out["credential_definition"] = {"type": list(self.types)}
        if self.binding_methods:
            out["cryptographic_binding_methods_supported"] = list(self.binding_methods)
        if self.signing_algs:
            out["credential_signing_alg_values_supported"] = list(self.signing_algs)
        if self.proof_algs:
            out["proof_types_supported"] = {
                "jwt": {"proof_signing_alg_values_supported": list(self.proof_algs)}
            }
        metadata: JSONObject = {}
        if self.display:
            metadata["display"] = [dict(d) for d in self.display]
        if self.claims:
            metadata["claims"] = [{"path": list(path)} for path in self.claims]
        if metadata:
            out["credential_metadata"] = metadata
        return out

    @classmethod
    def from_json(cls, id: str, doc: JSONValue) -> CredentialConfiguration:
        """Read a configuration; members this wallet does not use are ignored (§12.2.4).

        Raises:
            MalformedInputError: ``malformed`` for a missing ``format`` or a bad member.
        """
        if not isinstance(doc, dict):
            raise _malformed("a credential configuration is an object", id=id[:64])
        fmt = _text(doc, "format", max_len=_MAX_ID)
        vct = doc.get("vct")
        if vct is not None and not isinstance(vct, str):
            raise _malformed("vct is a string", id=id[:64])
        definition = doc.get("credential_definition")
        types: tuple[str, ...] = ()
        if isinstance(definition, dict) and "type" in definition:
            types = _texts(definition["type"], "credential_definition.type", max_items=16)
        binding = doc.get("cryptographic_binding_methods_supported")
        signing = doc.get("credential_signing_alg_values_supported")
        proofs = doc.get("proof_types_supported")
        proof_algs: tuple[str, ...] = ()
        if proofs is not None:
            if not isinstance(proofs, dict):
                raise _malformed("proof_types_supported is an object", id=id[:64])
            jwt = proofs.get("jwt")
            if isinstance(jwt, dict):
                proof_algs = _texts(
                    jwt.get("proof_signing_alg_values_supported"),
                    "proof_signing_alg_values_supported",
                    max_items=32,
                )
        return cls(
            id=id,
            format=fmt,
            vct=vct,
            types=types,
            binding_methods=()
            if binding is None
            else _texts(binding, "cryptographic_binding_methods_supported", max_items=32),
            signing_algs=()
            if signing is None
            else _texts(signing, "credential_signing_alg_values_supported", max_items=32),
            proof_algs=proof_algs,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialIssuerMetadata:
    """Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.4), the parameters we use.

    Attributes:
        credential_issuer: the identifier; credential_endpoint, nonce_endpoint: its URLs.
        authorization_servers: the issuer's authorization servers (empty: the issuer is one).
        configurations: ``credential_configurations_supported`` by id.
        display: the issuer's ``display`` objects.
    """

    credential_issuer: str
    credential_endpoint: str
    configurations: Mapping[str, CredentialConfiguration]
    nonce_endpoint: str | None = None
    authorization_servers: tuple[str, ...] = ()
    display: tuple[JSONObject, ...] = ()

    def to_json(self) -> JSONObject:
        """Return the metadata document."""
        out: JSONObject = {
            "credential_issuer": self.credential_issuer,
            "credential_endpoint": self.credential_endpoint,
        }
        if self.nonce_endpoint is not None:
            out["nonce_endpoint"] = self.nonce_endpoint
        if self.authorization_servers:
            out["authorization_servers"] = list(self.authorization_servers)
        if self.display:
            out["display"] = [dict(d) for d in self.display]
        out["credential_configurations_supported"] = {
            key: value.to_json() for key, value in self.configurations.items()
        }
        return out

    @classmethod
    def from_json(cls, doc: JSONValue, *, expected_issuer: str) -> CredentialIssuerMetadata:
        """Read metadata fetched for ``expected_issuer``.

        Raises:
            VerificationError: ``issuer_mismatch`` if ``credential_issuer`` is not
                ``expected_issuer`` exactly (§12.2.4: the document MUST NOT be used).
            MalformedInputError: ``malformed`` for a missing or bad parameter.
        """
        if not isinstance(doc, dict):
            raise _malformed("credential issuer metadata is a JSON object")
        if doc.get("credential_issuer") != expected_issuer:
            raise VerificationError(
                Code.ISSUER_MISMATCH, "the metadata names another credential issuer"
            )
        servers = doc.get("authorization_servers")
        supported = doc.get("credential_configurations_supported")
        if not isinstance(supported, dict) or len(supported) > _MAX_CONFIGURATIONS:
            raise _malformed("credential_configurations_supported is an object")
        nonce = doc.get("nonce_endpoint")
        return cls(
            credential_issuer=expected_issuer,
            credential_endpoint=_https_url(doc.get("credential_endpoint"), "credential_endpoint"),
            nonce_endpoint=None if nonce is None else _https_url(nonce, "nonce_endpoint"),
            authorization_servers=()
            if servers is None
            else tuple(
                _identifier(s, "authorization_servers")
                for s in _texts(servers, "authorization_servers", max_items=8, max_len=_MAX_URL)
            ),
            configurations={
                key: CredentialConfiguration.from_json(key, value)
                for key, value in supported.items()
            },
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationServerMetadata:
    """OAuth 2.0 Authorization Server Metadata (RFC 8414 §2), the parameters we use.

    Attributes:
        issuer: its identifier; token_endpoint: its token endpoint.
        grant_types: ``grant_types_supported`` (RFC 8414's default when absent).
        anonymous: ``pre-authorized_grant_anonymous_access_supported`` (§12.3).
    """

    issuer: str
    token_endpoint: str
    grant_types: tuple[str, ...] = ("authorization_code", "implicit")  # RFC 8414 §2
    anonymous: bool = False

    def to_json(self) -> JSONObject:
        """Return the metadata document.

        It has no ``response_types_supported``: §12.2.4 lets a server that only supports the
        pre-authorized code grant omit it.
        """
        return {
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint,
            "grant_types_supported": list(self.grant_types),
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": self.anonymous,
        }

    @classmethod
    def from_json(cls, doc: JSONValue, *, expected_issuer: str) -> AuthorizationServerMetadata:
        """Read metadata fetched for ``expected_issuer``.

        Raises:
            VerificationError: ``issuer_mismatch`` unless ``issuer`` is identical (RFC 8414
                §3.3).
            MalformedInputError: ``malformed`` for a missing or bad parameter.
        """
        if not isinstance(doc, dict):
            raise _malformed("authorization server metadata is a JSON object")
        if doc.get("issuer") != expected_issuer:
            raise VerificationError(
                Code.ISSUER_MISMATCH, "the metadata names another authorization server"
            )
        grants = doc.get("grant_types_supported")
        anonymous = doc.get("pre-authorized_grant_anonymous_access_supported", False)
        if not isinstance(anonymous, bool):
            raise _malformed("pre-authorized_grant_anonymous_access_supported is a boolean")
        return cls(
            issuer=expected_issuer,
            token_endpoint=_https_url(doc.get("token_endpoint"), "token_endpoint"),
            grant_types=_RFC8414_DEFAULT_GRANTS
            if grants is None
            else _texts(grants, "grant_types_supported", max_items=32),
            anonymous=anonymous,
        )


def seoul_configurations(signing_alg: str) -> dict[str, CredentialConfiguration]:
    """Return the configurations a Seoul issuer offers, two per credential type.

    * ``<Type>`` — ``dc+sd-jwt`` with the type's ``vct`` (OpenID4VCI Appendix A.3).
    * ``<Type>_vc+jwt`` — **the Seoul profile** for W3C VC DM 2.0 secured as ``vc+jwt``
      (VC-JOSE-COSE §3.1.1): format identifier ``vc+jwt``, ``credential_definition.type``
      ``["VerifiableCredential", "<Type>"]``, the same ``jwt`` key proof with a ``jwk``
      header; the proven key becomes ``credentialSubject.id`` as its did:key (Ed25519) or
      did:jwk (P-256), and the response's ``credential`` is the compact JWS. OpenID4VCI's own
      ``jwt_vc_json`` profile (Appendix A.1.1) is VC DM 1.1-shaped, hence a profile of ours.

    >>> sorted(seoul_configurations("EdDSA"))[:2]
    ['CertificateCredential', 'CertificateCredential_vc+jwt']
    """
    out: dict[str, CredentialConfiguration] = {}
    for ctype in CREDENTIAL_TYPES.values():
        display: tuple[JSONObject, ...] = (
            {"name": ctype.title, "locale": "en-US", "description": ctype.description},
            {"name": ctype.title_ko, "locale": "ko-KR"},
        )
        out[ctype.name] = CredentialConfiguration(
            id=ctype.name,
            format="dc+sd-jwt",
            vct=ctype.vct,
            binding_methods=("jwk",),
            signing_algs=(signing_alg,),
            proof_algs=PROOF_ALGORITHMS,
            display=display,
            claims=ctype.disclosable,
        )
        vc_id = ctype.name + VC_JWT_SUFFIX
        out[vc_id] = CredentialConfiguration(
            id=vc_id,
            format="vc+jwt",
            types=("VerifiableCredential", ctype.name),
            binding_methods=("jwk",),
            signing_algs=(signing_alg,),
            proof_algs=PROOF_ALGORITHMS,
            display=display,
            claims=tuple(("credentialSubject", *path) for path in ctype.disclosable),
        )
    return out


# -- key proofs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyProof:
    """A checked ``jwt`` key proof: the key to bind, and the ``c_nonce`` it answers."""

    key: PublicKey
    nonce: str | None
    iat: int


def format_key_proof(
    key: PrivateKey,
    *,
    audience: str,
    nonce: str | None,
    iat: int,
    client_id: str | None = None,
) -> str:
    """Sign a ``jwt`` key proof for ``key`` (OpenID4VCI 1.0 Appendix F.1).

    Args:
        key: the holder key the credential is to be bound to (its public JWK goes in the
            ``jwk`` header).
        audience: the Credential Issuer Identifier (``aud``).
        nonce: the ``c_nonce`` from the nonce endpoint, if the issuer has one.
        iat: the time of the proof (POSIX seconds).
        client_id: ``iss``, only for a client that authenticated with a ``client_id``.
    """
    claims: JSONObject = {"aud": audience, "iat": iat}
    if nonce is not None:
        claims["nonce"] = nonce
    if client_id is not None:
        claims["iss"] = client_id
    return encode_jwt(claims, key, typ=PROOF_TYP, header={"jwk": dict(key.public_key.to_jwk())})


def _invalid_proof(reason: str, message: str) -> VerificationError:
    return VerificationError(Code.INVALID_PROOF, message, reason=reason)


def check_key_proof(
    proof: object,
    *,
    audience: str,
    now: int,
    client_id: str | None = None,
    require_nonce: bool = True,
    algorithms: Collection[str] = PROOF_ALGORITHMS,
    limits: Limits = _DEFAULT_LIMITS,
) -> KeyProof:
    """Check a ``jwt`` key proof as OpenID4VCI 1.0 Appendix F.4 lists; return its key.

    Checks, in order: a compact JWS within the token bounds, an ``alg`` of the allow-list
    and of ``algorithms`` (never ``none`` or an HMAC), ``typ`` ``openid4vci-proof+jwt``, a
    ``jwk`` header and no other key source, a public, supported, strong key, the signature
    under it, ``aud`` equal to ``audience``, an integer ``iat`` not older than
    ``limits.kb_jwt_max_age`` and not ahead by more than ``limits.clock_skew``, a string
    ``nonce`` (when ``require_nonce``), and ``iss`` only as the client's ``client_id``
    (F.1: omitted after anonymous pre-authorized access).

    Raises:
        VerificationError: ``invalid_proof``, ``details["reason"]`` naming the check (the
            code of the underlying error where there is one: ``wrong_type``,
            ``unsupported_algorithm``, ``private_key_material``, ``weak_key``,
            ``invalid_signature``, ``audience_mismatch``, ``expired``, ...).
    """
    if not isinstance(proof, str):
        raise _invalid_proof("malformed", "a jwt key proof is a compact JWS string")
    try:
        jws = parse_compact(proof, limits=limits)
        if jws.alg not in algorithms:
            raise VerificationError(Code.UNSUPPORTED_ALGORITHM, "this proof alg is not accepted")
        if not typ_matches(jws.header.get("typ"), PROOF_TYP):
            raise VerificationError(Code.WRONG_TYPE, f"a key proof is typed {PROOF_TYP}")
        refused = [name for name in _REFUSED_HEADERS if name in jws.header]
        if refused:
            raise VerificationError(
                Code.UNSUPPORTED_HEADER, "the key is given as jwk only", header=refused[0]
            )
        jwk = jws.header.get("jwk")
        if not isinstance(jwk, dict):
            raise _invalid_proof("jwk_missing", "the proof carries no jwk header")
        key = PublicKey.from_jwk(jwk)
        check_signature(jws, key, typ=PROOF_TYP)
        claims = _json.loads_object(
            jws.payload,
            max_bytes=limits.max_token_bytes,
            max_depth=limits.max_json_depth,
            what="key proof claims",
        )
    except SeoulVCError as exc:
        if exc.code is Code.INVALID_PROOF:
            raise
        raise _invalid_proof(str(exc.code), f"the key proof is refused: {exc.message}") from exc
    if claims.get("aud") != audience:
        raise _invalid_proof("audience_mismatch", "the proof's aud is not this credential issuer")
    iat = claims.get("iat")
    if type(iat) is not int:
        raise _invalid_proof("malformed", "the proof's iat is an integer")
    skew = int(limits.clock_skew.total_seconds())
    if iat > now + skew:
        raise _invalid_proof("not_yet_valid", "the proof's iat is in the future")
    if iat < now - int(limits.kb_jwt_max_age.total_seconds()) - skew:
        raise _invalid_proof("expired", "the proof is too old")
    exp = claims.get("exp")
    if exp is not None and (type(exp) is not int or exp < now - skew):
        raise _invalid_proof("expired", "the proof has expired")
    nonce = claims.get("nonce")
    if nonce is not None and (not isinstance(nonce, str) or not nonce or len(nonce) > 512):
        raise _invalid_proof("malformed", "the proof's nonce is a non-empty string")
    if require_nonce and nonce is None:
        raise _invalid_proof("nonce_missing", "the proof carries no c_nonce")
    if "iss" in claims and (client_id is None or claims["iss"] != client_id):
        raise _invalid_proof("issuer_mismatch", "the proof's iss is not the client's client_id")
    return KeyProof(key=key, nonce=nonce, iat=iat)


# -- errors ---------------------------------------------------------------------------------------

_TOKEN_ERRORS: Final = {
    Code.INVALID_GRANT: "invalid_grant",
    Code.UNSUPPORTED_GRANT_TYPE: "unsupported_grant_type",
}
_CREDENTIAL_ERRORS: Final = {
    Code.UNAUTHORIZED: "invalid_token",
    Code.INVALID_PROOF: "invalid_proof",
    Code.INVALID_NONCE: "invalid_nonce",
    Code.UNKNOWN_CREDENTIAL_CONFIGURATION: "unknown_credential_configuration",
    Code.CREDENTIAL_REQUEST_DENIED: "credential_request_denied",
}
#: How a wallet reads an issuer's ``error`` (never the issuer's own ``code`` member: a
#: remote server does not choose our codes, e.g. ``unlock_failed``).
_CODE_OF_ERROR: Final = {
    "invalid_grant": Code.INVALID_GRANT,
    "unsupported_grant_type": Code.UNSUPPORTED_GRANT_TYPE,
    "invalid_proof": Code.INVALID_PROOF,
    "invalid_nonce": Code.INVALID_NONCE,
    "unknown_credential_configuration": Code.UNKNOWN_CREDENTIAL_CONFIGURATION,
    "invalid_request": Code.MALFORMED,
    "invalid_credential_request": Code.MALFORMED,
}


def oauth_error(code: Code, endpoint: Literal["token", "credential"]) -> str:
    """Return the ``error`` value an endpoint answers a library refusal with.

    Token endpoint (RFC 6749 §5.2, OpenID4VCI §6.3): ``invalid_grant``,
    ``unsupported_grant_type``, else ``invalid_request``. Credential endpoint (RFC 6750
    §3.1, OpenID4VCI §8.3.1.2): ``invalid_token``, ``invalid_proof``, ``invalid_nonce``,
    ``unknown_credential_configuration``, ``credential_request_denied``, else
    ``invalid_credential_request``.

    >>> oauth_error(Code.DUPLICATE_KEY, "credential")
    'invalid_credential_request'
    """
    if endpoint == "token":
        return _TOKEN_ERRORS.get(code, "invalid_request")
    return _CREDENTIAL_ERRORS.get(code, "invalid_credential_request")


def code_of_oauth_error(error: object) -> Code:
    """Return the library code for an issuer's ``error``.

    Unknown values, and ``invalid_token`` (the wallet's own authentication is not what
    failed), become ``credential_request_denied``.

    >>> code_of_oauth_error("invalid_nonce")
    <Code.INVALID_NONCE: 'invalid_nonce'>
    """
    if isinstance(error, str) and error in _CODE_OF_ERROR:
        return _CODE_OF_ERROR[error]
    return Code.CREDENTIAL_REQUEST_DENIED
