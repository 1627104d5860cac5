"""SD-JWT presentations of exactly the consented claims, and their check by the verifier.

Room: wallet presentations. The wallet builds each presentation with
:func:`seoul_vc.credentials.present` (RFC 9901 §4.3: disclosures of the consented paths, a
KB-JWT with ``aud`` the verifier's ``client_id`` and its ``nonce``), then *proves* it
discloses nothing more: it processes its own presentation as a verifier would (RFC 9901
§7.1) and refuses to release it (``excess_disclosure``) if any claim outside the consent is
readable — e.g. a plain, non-disclosable claim of the credential.

The verifier side, :func:`check_consented_presentation`, checks the presentation and its
view receipt together: the receipt proves the view was recorded (k of N, for this verifier
and nonce); the presentation verifies in the one pipeline (signature, trust, status, KB-JWT
for ``aud``/``nonce``); its credential is one the grant names; and every disclosed claim is
under a consented path.

Example:
    >>> from seoul_vc.wallet.present import is_under
    >>> is_under(("address", "district"), [("address",)])
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from seoul_vc import _json
from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials import Verifier, present, sd_jwt
from seoul_vc.credentials.sd_jwt import ClaimPath, format_claim_path
from seoul_vc.errors import Code, MalformedInputError, PolicyError, VerificationError
from seoul_vc.jose import parse_compact
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.note import NoteVerifier
from seoul_vc.limits import Limits
from seoul_vc.wallet.consent import VerifiedView, ViewReceipt, credential_ref

__all__ = [
    "ConsentedView",
    "build_presentation",
    "check_consented_presentation",
    "disclosed_paths",
    "is_under",
]

#: Claims of an SD-JWT VC that describe the credential, not its subject (SD-JWT VC §3.2.2).
_REGISTERED: Final = frozenset({"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "status"})
_DEFAULT_LIMITS: Final = Limits()


def is_under(path: ClaimPath, consented: Sequence[ClaimPath]) -> bool:
    """Return whether ``path`` is a consented path or inside one (``None`` matches any index)."""
    for pattern in consented:
        if len(pattern) <= len(path) and all(
            p is None or p == q for p, q in zip(pattern, path, strict=False)
        ):
            return True
    return False


def _leaves(value: JSONValue, prefix: ClaimPath) -> Iterator[ClaimPath]:
    if isinstance(value, dict) and value:
        for name, child in value.items():
            yield from _leaves(child, (*prefix, name))
    elif isinstance(value, list) and value:
        for position, child in enumerate(value):
            yield from _leaves(child, (*prefix, position))
    else:
        yield prefix


def disclosed_paths(presentation: str, *, limits: Limits = _DEFAULT_LIMITS) -> list[ClaimPath]:
    """Return the leaf paths of every subject claim a ``dc+sd-jwt`` presentation lets one read.

    Plain claims and disclosed ones alike; registered claims (``iss``, ``vct``, ``cnf``...)
    are not subject claims. The issuer signature is not checked here: the caller built or
    verified the presentation.

    Raises:
        MalformedInputError: for a presentation that does not parse.
    """
    parts = sd_jwt.split(presentation, limits=limits)
    jws = parse_compact(parts.issuer_jwt, limits=limits)
    payload = _json.loads_object(
        jws.payload, max_bytes=limits.max_token_bytes, max_depth=limits.max_json_depth
    )
    processed = sd_jwt.process(payload, parts.disclosures, limits=limits)
    claims: JSONObject = {k: v for k, v in processed.claims.items() if k not in _REGISTERED}
    return [path for path in _leaves(claims, ()) if path]


def build_presentation(
    credential: str,
    holder_key: PrivateKey,
    claims: Sequence[ClaimPath],
    *,
    aud: str,
    nonce: str,
    iat: int,
) -> str:
    """Present ``credential`` disclosing exactly ``claims``, bound to ``aud`` and ``nonce``.

    Raises:
        PolicyError: ``excess_disclosure`` if the presentation would let the verifier read a
            claim outside ``claims`` (checked on the built presentation, before release).
        ConfigurationError: ``bad_argument`` for a path the credential lacks.
    """
    shown = present(credential, holder_key, disclose=list(claims), aud=aud, nonce=nonce, iat=iat)
    for path in disclosed_paths(shown):
        if not is_under(path, claims):
            raise PolicyError(
                Code.EXCESS_DISCLOSURE,
                "the credential reveals a claim outside the consent",
                claim=format_claim_path(path),
            )
    return shown


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentedView:
    """A verified consented presentation: the claims per Credential Query, and the view."""

    claims: dict[str, JSONObject]
    view: VerifiedView


def check_consented_presentation(
    vp_token: Mapping[str, Sequence[str]] | str,
    receipt: ViewReceipt,
    *,
    verifier: Verifier,
    verifier_did: str,
    client_id: str,
    nonce: str,
    origin: str,
    log_key: NoteVerifier,
    witnesses: WitnessPolicy,
) -> ConsentedView:
    """Check a consented presentation and its view receipt together (verifier side).

    Steps: (1) the receipt (:meth:`ViewReceipt.check`); (2) each presentation in the
    verifier's pipeline with ``aud`` = ``client_id`` and ``nonce`` (the nonce is spent in
    the verifier's store once, for the first presentation; later ones of the same response
    are checked without spending it again); (3) its credential is one the grant names; (4)
    every disclosed claim is under a path the grant consents to for that credential.

    Args:
        vp_token: OpenID4VP 1.0 §8.1 ``vp_token`` (query id -> presentations), or one
            presentation.
        receipt: the view receipt that came with it.
        verifier: the agency's verification pipeline (trust, status, nonce store).
        verifier_did: the agency's DID.
        client_id: its OpenID4VP client id (the KB-JWT ``aud``).
        nonce: the nonce of the agency's request.
        origin: the ledger's origin.
        log_key: the ledger's note key.
        witnesses: the witness policy for the receipt's checkpoint.

    Raises:
        VerificationError: ``receipt_mismatch`` for (3) and for presentations that are not
            all bound to this nonce; the pipeline's and the receipt's errors.
        PolicyError: ``excess_disclosure`` for (4); pipeline policy errors.
    """
    # (1) The ledger recorded this view, for this verifier and nonce, within the budget.
    view = receipt.check(
        verifier=verifier_did, nonce=nonce, origin=origin, log_key=log_key, witnesses=witnesses
    )
    tokens = {"": [vp_token]} if isinstance(vp_token, str) else vp_token
    if not tokens or sum(len(v) for v in tokens.values()) == 0:
        raise MalformedInputError(Code.MALFORMED, "the vp_token holds no presentation")
    out: dict[str, JSONObject] = {}
    spent = False
    for query_id, presentations in tokens.items():
        if len(presentations) != 1:
            raise MalformedInputError(Code.MALFORMED, "one presentation per Credential Query")
        shown = presentations[0]
        # (2) The one pipeline; the nonce is single-use, so only the first spends it.
        report = verifier.verify(shown, aud=client_id, nonce=None if spent else nonce)
        if spent and not _kb_nonce_is(shown, nonce):
            raise VerificationError(Code.RECEIPT_MISMATCH, "a presentation has another nonce")
        spent = True
        # (3) The credential is one the grant names, by its salted reference.
        ref = credential_ref(view.consent_id, shown)
        consented = view.claims.get(ref)
        if consented is None:
            raise VerificationError(
                Code.RECEIPT_MISMATCH, "the presented credential is not under this consent"
            )
        # (4) Nothing beyond the consent.
        for path in disclosed_paths(shown):
            if not is_under(path, consented):
                raise PolicyError(
                    Code.EXCESS_DISCLOSURE,
                    "the presentation discloses a claim outside the consent",
                    claim=format_claim_path(path),
                )
        out[query_id] = report.claims
    return ConsentedView(claims=out, view=view)


def _kb_nonce_is(presentation: str, nonce: str) -> bool:
    parts = sd_jwt.split(presentation)
    if parts.kb_jwt is None:
        return False
    claims = _json.loads_object(
        parse_compact(parts.kb_jwt).payload, max_bytes=64 * 1024, max_depth=8
    )
    return claims.get("nonce") == nonce
