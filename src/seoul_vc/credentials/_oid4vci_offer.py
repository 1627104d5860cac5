"""OpenID4VCI 1.0 Credential Offers with the pre-authorized code grant.

Part of :mod:`seoul_vc.credentials.oid4vci`, which re-exports every public name here.
**Credential Offer** (§4.1): :class:`CredentialOffer` with the pre-authorized code grant
``urn:ietf:params:oauth:grant-type:pre-authorized_code`` (``pre-authorized_code``, optional
``tx_code`` object, :class:`TxCode`: ``input_mode``, ``length``, ``description`` of at most
300 characters), sent by value as ``openid-credential-offer://?credential_offer=<JSON>``
(§4.1.2, :func:`parse_credential_offer`) or by reference with ``credential_offer_uri``
(§4.1.3, an ``https`` URL, :func:`offer_reference`). Unrecognised members are ignored
(§4.1.1); only the pre-authorized code grant is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qsl, quote

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials._oid4vci_metadata import (
    _MAX_URL,
    _https_url,
    _identifier,
    _malformed,
    _text,
    _texts,
)
from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.limits import Limits

__all__ = [
    "OFFER_SCHEME",
    "PRE_AUTHORIZED_GRANT",
    "CredentialOffer",
    "TxCode",
    "offer_reference",
    "parse_credential_offer",
]

#: The Pre-Authorized Code grant type (OpenID4VCI 1.0 §4.1.1).
PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
#: The URI scheme of offers handed to a wallet by link or QR code (§4.1.2).
OFFER_SCHEME: Final = "openid-credential-offer://"

_MAX_CODE: Final = 1024
_MAX_OFFERED: Final = 16
_MAX_DESCRIPTION: Final = 300
_DEFAULT_LIMITS: Final = Limits()


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
