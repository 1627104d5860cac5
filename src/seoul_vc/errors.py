"""One exception hierarchy with stable, machine-readable codes.

Every error the library raises on purpose is a :class:`SeoulVCError`. Its :class:`Code` is a
stable snake_case fact (``invalid_signature``, ``too_large``) that scripts and HTTP clients
match on; the message is for people and may change. Each code belongs to exactly one family,
and each family maps to one CLI exit code and one HTTP status:

====================== ==== ==== ==================================================
family                 exit HTTP meaning
====================== ==== ==== ==================================================
MalformedInputError    1    400  the thing being judged is malformed or oversized
VerificationError      1    422  well-formed, but a cryptographic or claim check failed
PolicyError            1    403  valid, but refused by policy (trust, status, address)
StateConflictError     1    409  refused by the current state (budget spent, replay)
ConfigurationError     2    500  bad usage: arguments, unreadable files, bad settings
NotFoundError          3    404  the thing named does not exist
StorageError           4    500  the store failed or its contents are not intact
UnavailableError       4    503  a network peer or the store is unreachable for now
InternalError          5    500  a bug: an invariant of ours broke
====================== ==== ==== ==================================================

Messages and details name fields, sizes, indexes and digests, never claim values, tokens,
PINs or key material.

Example:
    >>> from seoul_vc.errors import Code, VerificationError
    >>> err = VerificationError(Code.INVALID_SIGNATURE, "signature does not verify")
    >>> (err.code, err.family, err.exit_code)
    (<Code.INVALID_SIGNATURE: 'invalid_signature'>, 'verification', 1)
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

__all__ = [
    "Code",
    "ConfigurationError",
    "InternalError",
    "MalformedInputError",
    "NotFoundError",
    "PolicyError",
    "SeoulVCError",
    "StateConflictError",
    "StorageError",
    "UnavailableError",
    "VerificationError",
    "error_for",
]


class Code(StrEnum):
    """Stable error codes; each member belongs to exactly one family (see ``FAMILY_OF``)."""

    # -- malformed input ------------------------------------------------------------------
    MALFORMED = "malformed"
    """Input does not have the required syntax (JSON, compact JWS, DID, multibase...)."""
    TOO_LARGE = "too_large"
    """Input exceeds a size or count bound of :class:`~seoul_vc.limits.Limits`."""
    TOO_DEEP = "too_deep"
    """JSON nesting exceeds ``Limits.max_json_depth``."""
    DUPLICATE_KEY = "duplicate_key"
    """A JSON object repeats a member name (RFC 8259 §4 leaves it undefined; we refuse)."""
    INVALID_ENCODING = "invalid_encoding"
    """Non-canonical base64url/base58/decimal: padding, wrong alphabet, stray bits, signs."""
    INVALID_DID = "invalid_did"
    """The DID or DID URL is not valid for its method."""
    INVALID_KEY = "invalid_key"
    """Key material is malformed: wrong length, off the curve, unknown curve or type."""
    WEAK_KEY = "weak_key"
    """The key is well-formed but unsafe (small-order Ed25519 point)."""
    PRIVATE_KEY_MATERIAL = "private_key_material"
    """A public key was expected but private members (``d``...) were supplied."""
    SCHEMA_VIOLATION = "schema_violation"
    """A credential subject does not match its type's JSON Schema (``details["field"]``)."""
    DISCLOSURE_MALFORMED = "disclosure_malformed"
    """An SD-JWT disclosure is not a base64url JSON array of the right shape (RFC 9901 §4.2)."""
    # -- verification -----------------------------------------------------------------------
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    """``alg`` is not in the allow-list (EdDSA/Ed25519, ES256)."""
    ALGORITHM_KEY_MISMATCH = "algorithm_key_mismatch"
    """``alg`` does not fit the key (EdDSA with a P-256 key, ES256 with Ed25519)."""
    INVALID_SIGNATURE = "invalid_signature"
    """The signature does not verify under the key."""
    UNSUPPORTED_CRITICAL_HEADER = "unsupported_critical_header"
    """``crit`` names an extension we do not understand, or is empty (RFC 7515 §4.1.11)."""
    UNSUPPORTED_HEADER = "unsupported_header"
    """A header parameter changes processing in a way we refuse (``b64: false``)."""
    WRONG_TYPE = "wrong_type"
    """``typ`` or the credential type is not the one expected (RFC 8725 §3.11)."""
    EXPIRED = "expired"
    """Past ``exp``/``validUntil`` beyond the allowed clock skew."""
    NOT_YET_VALID = "not_yet_valid"
    """Before ``nbf``/``iat``/``validFrom`` beyond the allowed clock skew."""
    DID_MISMATCH = "did_mismatch"
    """A resolved DID document does not describe the DID that was asked for."""
    ISSUER_MISMATCH = "issuer_mismatch"
    """The signing key's DID (``kid``) is not the credential's issuer, or the issuer metadata
    fetched for an HTTPS ``iss`` names another issuer (SD-JWT VC §4.3)."""
    UNSUPPORTED_SD_ALG = "unsupported_sd_alg"
    """``_sd_alg`` names a hash function other than sha-256 (RFC 9901 §4.1.1)."""
    DISCLOSURE_UNREFERENCED = "disclosure_unreferenced"
    """A disclosure's digest appears nowhere in the SD-JWT payload (RFC 9901 §7.1 step 5)."""
    DISCLOSURE_REPEATED = "disclosure_repeated"
    """A disclosure or digest appears more than once (RFC 9901 §7.1 step 4)."""
    DISCLOSURE_CONFLICT = "disclosure_conflict"
    """A disclosure names ``_sd``/``...``, overrides a claim, or discloses one that must stay
    plain (RFC 9901 §7.1 step 3; SD-JWT VC §3.2.2)."""
    KB_JWT_MISSING = "kb_jwt_missing"
    """The credential is bound to a holder key (``cnf``) but no Key Binding JWT came with it."""
    KB_JWT_INVALID = "kb_jwt_invalid"
    """The Key Binding JWT is malformed, of the wrong ``typ``, or its ``iat`` is out of range."""
    SD_HASH_MISMATCH = "sd_hash_mismatch"
    """The KB-JWT's ``sd_hash`` is not the hash of the presentation it came with."""
    AUDIENCE_MISMATCH = "audience_mismatch"
    """The presentation was made for another audience (``aud``)."""
    NONCE_MISMATCH = "nonce_mismatch"
    """The presentation carries another nonce than the verifier's."""
    INCLUSION_PROOF_INVALID = "inclusion_proof_invalid"
    """A Merkle inclusion proof does not lead to the tree's root (RFC 9162 §2.1.3.2)."""
    CONSISTENCY_PROOF_INVALID = "consistency_proof_invalid"
    """A Merkle consistency proof does not link the two tree heads (RFC 9162 §2.1.4.2)."""
    PROOF_ARGUMENTS_INVALID = "proof_arguments_invalid"
    """A Merkle proof's sizes, index, length or hash widths are impossible (RFC 9162 §2.1)."""
    ORIGIN_MISMATCH = "origin_mismatch"
    """A checkpoint names another log (origin) than the one the verifier expects."""
    LOG_FORK_DETECTED = "log_fork_detected"
    """A log's checkpoint contradicts one already cosigned: same size, other root, or smaller."""
    # -- policy -------------------------------------------------------------------------------
    UNTRUSTED_ISSUER = "untrusted_issuer"
    """The issuer is not trusted for this credential type."""
    REVOKED = "revoked"
    """The credential's status entry says revoked."""
    SUSPENDED = "suspended"
    """The credential's status entry says suspended."""
    ADDRESS_REFUSED = "address_refused"
    """A network request would reach a loopback, private or otherwise special address."""
    INSECURE_TRANSPORT = "insecure_transport"
    """A request would leave HTTPS (plain HTTP, redirect off-host or off-scheme)."""
    WITNESS_QUORUM_NOT_MET = "witness_quorum_not_met"
    """Fewer trusted witnesses cosigned a checkpoint than the witness policy requires."""
    UNTRUSTED_SIGNER = "untrusted_signer"
    """The signer of a ledger entry holds no authority for its record type."""
    HOLDER_BINDING_MISSING = "holder_binding_missing"
    """The verifier asked for a holder-bound presentation (aud, nonce) and got none."""
    STATUS_UNCHECKED = "status_unchecked"
    """The credential has a status entry and the verifier has no way to check it."""
    # -- state ---------------------------------------------------------------------------------
    CONSENT_EXHAUSTED = "consent_exhausted"
    """The consent's view budget is spent."""
    REFUSALS_FULL = "refusals_full"
    """The consent records no more refusals: its bounds are reached, or this request's is
    recorded already (the view is refused all the same, unrecorded)."""
    NONCE_REPLAYED = "nonce_replayed"
    """The verifier's nonce was already used by an earlier presentation."""
    CONFLICT = "conflict"
    """The entry contradicts the ledger's current state (a second genesis, a duplicate id)."""
    OLD_SIZE_MISMATCH = "old_size_mismatch"
    """An ``add-checkpoint``'s old size is not the size this witness cosigned last (C2SP
    tlog-witness; ``details.size`` is that size): send a proof from it."""
    ALREADY_EXISTS = "already_exists"
    """Creating something that exists (a key file that would be overwritten...)."""
    # -- voting and mileage room (ledger.apps.voting, ledger.apps.mileage) -------------------
    UNKNOWN_POLL = "unknown_poll"
    """No poll with this id was opened on the ledger."""
    POLL_NOT_OPEN = "poll_not_open"
    """A ballot's time is before the poll's window opens."""
    POLL_CLOSED = "poll_closed"
    """The poll was closed, or its window has ended: registrations and ballots are refused."""
    NULLIFIER_USED = "nullifier_used"
    """This person (their poll-scoped nullifier) is already registered in this poll."""
    ALREADY_REGISTERED = "already_registered"
    """This voter key is already registered in this poll."""
    NOT_REGISTERED = "not_registered"
    """The ballot's signer is not a registered voter of this poll."""
    ALREADY_VOTED = "already_voted"
    """This registered voter has already cast their ballot in this poll."""
    NOT_ELIGIBLE = "not_eligible"
    """The disclosed claims do not satisfy the poll's eligibility rule."""
    CLAIMS_NOT_DISCLOSED = "claims_not_disclosed"
    """The presentation does not disclose a claim the poll needs (its rule, the pseudonym)."""
    EXCESS_DISCLOSURE = "excess_disclosure"
    """The presentation discloses claims the poll does not need (data minimisation)."""
    INSUFFICIENT_BALANCE = "insufficient_balance"
    """The account holds fewer points or S-Coin than the operation takes."""
    UNKNOWN_PROGRAMME = "unknown_programme"
    """No mileage programme with this name is registered on the ledger."""
    UNKNOWN_MERCHANT = "unknown_merchant"
    """No merchant with this id is registered on the ledger."""
    RATE_MISMATCH = "rate_mismatch"
    """A conversion's points and S-Coin do not match the programme's current rate exactly."""
    SETTLEMENT_MISMATCH = "settlement_mismatch"
    """A settlement's total or count differs from the merchant's unsettled spends."""
    ALREADY_APPLIED = "already_applied"
    """An operation with this idempotency key was applied before (``details["index"]``)."""
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    """The idempotency key was used before for a different operation."""
    # -- status room (seoul_vc.status: Bitstring Status List, Token Status List) ------------
    STATUS_LIST_INVALID = "status_list_invalid"
    """A status list is not a valid list for this entry: wrong ``typ``/type, another URL
    (``id``/``sub``), another issuer, outside its validity period, or a bad structure."""
    STATUS_LIST_TOO_SHORT = "status_list_too_short"
    """A status list has fewer entries than ``Limits.min_status_list_entries`` (herd privacy,
    W3C Bitstring Status List STATUS_LIST_LENGTH_ERROR)."""
    STATUS_INDEX_INVALID = "status_index_invalid"
    """A status list index is not a canonical ASCII base-10 integer (``statusListIndex``), not
    a non-negative JSON integer (``idx``), or lies outside the list (RANGE_ERROR)."""
    STATUS_PURPOSE_MISMATCH = "status_purpose_mismatch"
    """The entry's ``statusPurpose`` is not a purpose of the status list it points to."""
    STATUS_LIST_NOT_ANCHORED = "status_list_not_anchored"
    """Anchored mode: the fetched list's SHA-256 is not the latest one the ledger holds for its
    URL under a checkpoint the witness policy accepts."""
    # -- consent room (ledger.apps.consent, seoul_vc.wallet) ----------------------------------
    CONSENT_EXPIRED = "consent_expired"
    """The consent's ``expires_at`` has passed: no more views."""
    CONSENT_WITHDRAWN = "consent_withdrawn"
    """The citizen withdrew the consent: no more views."""
    WRONG_VERIFIER = "wrong_verifier"
    """The consent was granted to another verifier than the one asking."""
    UNKNOWN_CONSENT = "unknown_consent"
    """No consent with this id was granted on the ledger."""
    VIEW_OUT_OF_ORDER = "view_out_of_order"
    """A view's number is not the next one of its consent (a concurrent view won; retry)."""
    CLAIM_NOT_REQUESTED = "claim_not_requested"
    """A consent names a credential or claim the verifier's request did not ask for."""
    RECEIPT_MISMATCH = "receipt_mismatch"
    """A view receipt does not match the presentation, its verifier, nonce or consent."""
    WALLET_LOCKED = "wallet_locked"
    """Too many wrong PINs: wait ``retry_after`` seconds, or the wallet is locked for good."""
    UNLOCK_FAILED = "unlock_failed"
    """The PIN does not unlock the wallet, or the passphrase the backup (one opaque code: no
    detail helps a guesser)."""
    MASTER_KEY_MISMATCH = "master_key_mismatch"
    """The wallet's data key is wrapped by another master key than the one configured."""
    VAULT_RECORD_CORRUPT = "vault_record_corrupt"
    """An encrypted vault record fails its integrity check, or was moved or truncated."""
    BACKUP_TOO_COSTLY = "backup_too_costly"
    """A wallet backup's header names a scrypt cost past what opening one may take (256 MiB,
    N*r*p of 2^23): refused before anything is derived. Not a wrong passphrase."""
    # -- presentation sessions (seoul_vc.presentation: OpenID4VP 1.0 direct_post) -------------
    STATE_MISMATCH = "state_mismatch"
    """An OpenID4VP response's ``state`` is not its request's (OpenID4VP 1.0 §14.4.2)."""
    ALREADY_ANSWERED = "already_answered"
    """The presentation request already took its one response: a second one (a replay, or a
    concurrent answer) is refused (OpenID4VP 1.0 §13.3, §14.2)."""
    QUERY_NOT_ANSWERED = "query_not_answered"
    """The ``vp_token`` has no presentation for a Credential Query of the request (§6.4)."""
    # -- OpenID4VCI (seoul_vc.credentials.oid4vci, seoul_vc.issuance) -------------------------
    INVALID_GRANT = "invalid_grant"
    """The pre-authorized code is unknown, expired, used or invalidated, or the transaction
    code is wrong (RFC 6749 §5.2, OpenID4VCI 1.0 §6.3)."""
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    """The token request names a grant type this authorization server does not support."""
    INVALID_PROOF = "invalid_proof"
    """The key proof is missing or invalid (OpenID4VCI 1.0 §8.3.1.2, Appendix F.4);
    ``details["reason"]`` names the failed check."""
    INVALID_NONCE = "invalid_nonce"
    """The key proof's ``c_nonce`` was not issued here, expired or was used already
    (OpenID4VCI 1.0 §8.3.1.2): get a fresh one from the nonce endpoint."""
    UNKNOWN_CREDENTIAL_CONFIGURATION = "unknown_credential_configuration"
    """No credential configuration with this id (OpenID4VCI 1.0 §8.3.1.2)."""
    CREDENTIAL_REQUEST_DENIED = "credential_request_denied"
    """The issuer refuses this credential request: the access token is for another
    configuration, or the credential cannot be issued (OpenID4VCI 1.0 §8.3.1.2)."""
    # -- HTTP service -------------------------------------------------------------------------
    UNAUTHORIZED = "unauthorized"
    """The request lacks valid credentials for this endpoint (HTTP 401, one opaque code)."""
    RATE_LIMITED = "rate_limited"
    """Too many failed attempts from this client: wait ``retry_after`` seconds (HTTP 429)."""
    REQUEST_TIMEOUT = "request_timeout"
    """The request body did not arrive in time (HTTP 408): send it again, whole and sooner."""
    # -- configuration ------------------------------------------------------------------------
    BAD_ARGUMENT = "bad_argument"
    """A caller-supplied argument or setting is invalid."""
    UNREADABLE_INPUT = "unreadable_input"
    """A file or stream could not be read."""
    # -- not found ----------------------------------------------------------------------------
    NOT_FOUND = "not_found"
    """The named thing does not exist (DID document, verification method, file...)."""
    # -- storage / unavailable ----------------------------------------------------------------
    STORAGE = "storage"
    """The store failed to read or write."""
    LEDGER_TAMPERED = "ledger_tampered"
    """The ledger database disagrees with its own hashes, signatures or checkpoint."""
    UNAVAILABLE = "unavailable"
    """A network peer did not answer usefully in time (did:web host down, timeout)."""
    # -- internal ------------------------------------------------------------------------------
    INTERNAL = "internal"
    """An invariant of ours broke: a bug. Please report it."""


class SeoulVCError(Exception):
    """The base of everything seoul_vc raises on purpose.

    Attributes:
        code: the stable :class:`Code`.
        message: a human-readable sentence without secrets or claim values.
        details: extra machine-readable facts (field names, sizes, indexes).
    """

    family: ClassVar[str] = "internal"
    exit_code: ClassVar[int] = 5
    http_status: ClassVar[int] = 500

    def __init__(self, code: Code, message: str, **details: str | int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, object]:
        """Return the error as the JSON object the CLI and HTTP surfaces emit."""
        return {
            "code": str(self.code),
            "family": self.family,
            "message": self.message,
            "details": dict(self.details),
        }


class MalformedInputError(SeoulVCError):
    """The thing being judged is malformed, oversized or non-canonical."""

    family = "malformed"
    exit_code = 1
    http_status = 400


class VerificationError(SeoulVCError):
    """Well-formed input failed a cryptographic or claim check."""

    family = "verification"
    exit_code = 1
    http_status = 422


class PolicyError(SeoulVCError):
    """Valid input refused by policy: trust, status, network address rules."""

    family = "policy"
    exit_code = 1
    http_status = 403


class StateConflictError(SeoulVCError):
    """Refused by current state: a spent view budget, a replayed nonce, an existing file."""

    family = "state"
    exit_code = 1
    http_status = 409


class ConfigurationError(SeoulVCError):
    """Bad usage: invalid arguments or settings, unreadable files."""

    family = "configuration"
    exit_code = 2
    http_status = 500


class NotFoundError(SeoulVCError):
    """The named thing does not exist."""

    family = "not_found"
    exit_code = 3
    http_status = 404


class StorageError(SeoulVCError):
    """The store failed, or what it holds is not intact."""

    family = "storage"
    exit_code = 4
    http_status = 500


class UnavailableError(SeoulVCError):
    """A network peer or the store cannot be reached now; retrying later may work."""

    family = "unavailable"
    exit_code = 4
    http_status = 503


class InternalError(SeoulVCError):
    """An invariant of ours broke: a bug."""

    family = "internal"
    exit_code = 5
    http_status = 500


FAMILY_OF: dict[Code, type[SeoulVCError]] = {
    Code.MALFORMED: MalformedInputError,
    Code.TOO_LARGE: MalformedInputError,
    Code.TOO_DEEP: MalformedInputError,
    Code.DUPLICATE_KEY: MalformedInputError,
    Code.INVALID_ENCODING: MalformedInputError,
    Code.INVALID_DID: MalformedInputError,
    Code.INVALID_KEY: MalformedInputError,
    Code.WEAK_KEY: MalformedInputError,
    Code.PRIVATE_KEY_MATERIAL: MalformedInputError,
    Code.UNSUPPORTED_ALGORITHM: VerificationError,
    Code.ALGORITHM_KEY_MISMATCH: VerificationError,
    Code.INVALID_SIGNATURE: VerificationError,
    Code.UNSUPPORTED_CRITICAL_HEADER: VerificationError,
    Code.UNSUPPORTED_HEADER: VerificationError,
    Code.WRONG_TYPE: VerificationError,
    Code.EXPIRED: VerificationError,
    Code.NOT_YET_VALID: VerificationError,
    Code.DID_MISMATCH: VerificationError,
    Code.INCLUSION_PROOF_INVALID: VerificationError,
    Code.CONSISTENCY_PROOF_INVALID: VerificationError,
    Code.PROOF_ARGUMENTS_INVALID: VerificationError,
    Code.ORIGIN_MISMATCH: VerificationError,
    Code.LOG_FORK_DETECTED: VerificationError,
    Code.HOLDER_BINDING_MISSING: PolicyError,
    Code.STATUS_UNCHECKED: PolicyError,
    Code.NONCE_REPLAYED: StateConflictError,
    Code.SCHEMA_VIOLATION: MalformedInputError,
    Code.DISCLOSURE_MALFORMED: MalformedInputError,
    Code.ISSUER_MISMATCH: VerificationError,
    Code.UNSUPPORTED_SD_ALG: VerificationError,
    Code.DISCLOSURE_UNREFERENCED: VerificationError,
    Code.DISCLOSURE_REPEATED: VerificationError,
    Code.DISCLOSURE_CONFLICT: VerificationError,
    Code.KB_JWT_MISSING: VerificationError,
    Code.KB_JWT_INVALID: VerificationError,
    Code.SD_HASH_MISMATCH: VerificationError,
    Code.AUDIENCE_MISMATCH: VerificationError,
    Code.NONCE_MISMATCH: VerificationError,
    Code.UNTRUSTED_ISSUER: PolicyError,
    Code.WITNESS_QUORUM_NOT_MET: PolicyError,
    Code.UNTRUSTED_SIGNER: PolicyError,
    Code.REVOKED: PolicyError,
    Code.SUSPENDED: PolicyError,
    Code.ADDRESS_REFUSED: PolicyError,
    Code.INSECURE_TRANSPORT: PolicyError,
    Code.CONSENT_EXHAUSTED: StateConflictError,
    Code.REFUSALS_FULL: StateConflictError,
    Code.CONFLICT: StateConflictError,
    Code.OLD_SIZE_MISMATCH: StateConflictError,
    Code.ALREADY_EXISTS: StateConflictError,
    # voting and mileage room
    Code.UNKNOWN_POLL: StateConflictError,
    Code.POLL_NOT_OPEN: StateConflictError,
    Code.POLL_CLOSED: StateConflictError,
    Code.NULLIFIER_USED: StateConflictError,
    Code.ALREADY_REGISTERED: StateConflictError,
    Code.NOT_REGISTERED: StateConflictError,
    Code.ALREADY_VOTED: StateConflictError,
    Code.NOT_ELIGIBLE: PolicyError,
    Code.CLAIMS_NOT_DISCLOSED: PolicyError,
    Code.EXCESS_DISCLOSURE: PolicyError,
    Code.INSUFFICIENT_BALANCE: StateConflictError,
    Code.UNKNOWN_PROGRAMME: StateConflictError,
    Code.UNKNOWN_MERCHANT: StateConflictError,
    Code.RATE_MISMATCH: StateConflictError,
    Code.SETTLEMENT_MISMATCH: StateConflictError,
    Code.ALREADY_APPLIED: StateConflictError,
    Code.IDEMPOTENCY_KEY_REUSED: StateConflictError,
    # status room
    Code.STATUS_LIST_INVALID: VerificationError,
    Code.STATUS_LIST_TOO_SHORT: PolicyError,
    Code.STATUS_INDEX_INVALID: MalformedInputError,
    Code.STATUS_PURPOSE_MISMATCH: VerificationError,
    Code.STATUS_LIST_NOT_ANCHORED: PolicyError,
    # consent room
    Code.CONSENT_EXPIRED: StateConflictError,
    Code.CONSENT_WITHDRAWN: StateConflictError,
    Code.WRONG_VERIFIER: PolicyError,
    Code.UNKNOWN_CONSENT: StateConflictError,
    Code.VIEW_OUT_OF_ORDER: StateConflictError,
    Code.CLAIM_NOT_REQUESTED: PolicyError,
    Code.RECEIPT_MISMATCH: VerificationError,
    Code.WALLET_LOCKED: StateConflictError,
    Code.UNLOCK_FAILED: PolicyError,
    Code.MASTER_KEY_MISMATCH: ConfigurationError,
    Code.VAULT_RECORD_CORRUPT: StorageError,
    Code.BACKUP_TOO_COSTLY: MalformedInputError,
    # presentation sessions
    Code.STATE_MISMATCH: VerificationError,
    Code.ALREADY_ANSWERED: StateConflictError,
    Code.QUERY_NOT_ANSWERED: PolicyError,
    # OpenID4VCI
    Code.INVALID_GRANT: PolicyError,
    Code.UNSUPPORTED_GRANT_TYPE: MalformedInputError,
    Code.INVALID_PROOF: VerificationError,
    Code.INVALID_NONCE: StateConflictError,
    Code.UNKNOWN_CREDENTIAL_CONFIGURATION: NotFoundError,
    Code.CREDENTIAL_REQUEST_DENIED: PolicyError,
    Code.UNAUTHORIZED: PolicyError,
    Code.RATE_LIMITED: PolicyError,
    Code.REQUEST_TIMEOUT: PolicyError,
    Code.BAD_ARGUMENT: ConfigurationError,
    Code.UNREADABLE_INPUT: ConfigurationError,
    Code.NOT_FOUND: NotFoundError,
    Code.STORAGE: StorageError,
    Code.LEDGER_TAMPERED: StorageError,
    Code.UNAVAILABLE: UnavailableError,
    Code.INTERNAL: InternalError,
}


def error_for(code: Code, message: str, **details: str | int) -> SeoulVCError:
    """Build the error of the family that ``code`` belongs to.

    Example:
        >>> raise error_for(Code.TOO_LARGE, "token exceeds 65536 bytes", limit=65536)
        Traceback (most recent call last):
        seoul_vc.errors.MalformedInputError: too_large: token exceeds 65536 bytes
    """
    return FAMILY_OF[code](code, message, **details)
