"""OpenID4VCI 1.0 metadata: issuer identifiers, well-known URLs and configurations.

Part of :mod:`seoul_vc.credentials.oid4vci`, which re-exports every public name here:

* **Credential Issuer Metadata** (§12.2) at ``/.well-known/openid-credential-issuer``
  inserted between host and path (§12.2.2); its ``credential_issuer`` must equal the
  identifier it was fetched for, by simple string comparison, or it is not used (§12.2.4,
  ``issuer_mismatch``). **Authorization Server Metadata** (RFC 8414 §3, with OpenID4VCI
  §12.3 ``pre-authorized_grant_anonymous_access_supported``), whose ``issuer`` must be
  identical too (RFC 8414 §3.3).
* **Credential configurations** (§12.2.4, Appendix A.3): ``dc+sd-jwt`` with ``vct``, and
  the Seoul profile ``vc+jwt`` (``<Type>_vc+jwt``; see :func:`seoul_configurations`), both
  bound to a ``jwk`` proven by a ``jwt`` key proof.
* **Strict readers** of string members, arrays and ``https`` URLs and identifiers
  (§12.2.1, RFC 8414 §2), which the offers of :mod:`._oid4vci_offer` read with too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials._oid4vci_proofs import PROOF_ALGORITHMS
from seoul_vc.credentials.metadata import WELL_KNOWN_PATH, issuer_metadata_url
from seoul_vc.credentials.sd_jwt import ClaimPath
from seoul_vc.credentials.types import CREDENTIAL_TYPES
from seoul_vc.errors import Code, MalformedInputError, VerificationError

__all__ = [
    "AS_WELL_KNOWN",
    "ISSUER_WELL_KNOWN",
    "VC_JWT_SUFFIX",
    "AuthorizationServerMetadata",
    "CredentialConfiguration",
    "CredentialIssuerMetadata",
    "authorization_server_metadata_url",
    "credential_issuer_metadata_url",
    "seoul_configurations",
]

ISSUER_WELL_KNOWN: Final = "/.well-known/openid-credential-issuer"
AS_WELL_KNOWN: Final = "/.well-known/oauth-authorization-server"
#: The Seoul profile's configuration id suffix for ``vc+jwt`` (see the module docstring).
VC_JWT_SUFFIX: Final = "_vc+jwt"

_MAX_URL: Final = 2048
_MAX_ID: Final = 256
_MAX_CONFIGURATIONS: Final = 256
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
