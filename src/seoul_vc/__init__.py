"""seoul_vc: verifiable credentials, DID wallets and a Merkle-log ledger for Seoul.

The public surface: keys, DIDs, errors, limits, clocks, credentials (:class:`Issuer`,
:func:`present`, :class:`Verifier` with its :class:`VerificationReport`, and the
:class:`TrustRegistry`), the :class:`Ledger` and its offline :class:`ProofBundle` (checked by
:func:`verify_bundle`); the Citizen Card wallet joins as it lands. Advanced rooms —
:mod:`seoul_vc.jose` (compact JWS) and :mod:`seoul_vc.ledger.tlog` (Merkle proofs) — are
importable but deliberately not re-exported: they are a hazmat layer.

Example:
    >>> import seoul_vc
    >>> key = seoul_vc.PrivateKey.generate("ES256")
    >>> did = seoul_vc.did_key(key.public_key)
    >>> str(seoul_vc.resolve(did).id) == did
    True
"""

from seoul_vc.clock import Clock, FixedClock, SystemClock
from seoul_vc.credentials import (
    Issuer,
    TrustRegistry,
    VerificationReport,
    Verifier,
    present,
)
from seoul_vc.did import (
    CachingResolver,
    MethodResolver,
    Resolver,
    VerificationMethod,
    resolve,
    resolve_verification_method,
)
from seoul_vc.did.jwk import did_jwk
from seoul_vc.did.key import did_key
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
    StorageError,
    UnavailableError,
    VerificationError,
)
from seoul_vc.keys import KeyAlgorithm, PrivateKey, PublicKey, load_public_key
from seoul_vc.ledger.bundle import ProofBundle, verify_bundle
from seoul_vc.ledger.log import Ledger
from seoul_vc.limits import Limits

__version__ = "0.1.0"

__all__ = [
    "CachingResolver",
    "Clock",
    "Code",
    "ConfigurationError",
    "FixedClock",
    "InternalError",
    "Issuer",
    "KeyAlgorithm",
    "Ledger",
    "Limits",
    "MalformedInputError",
    "MethodResolver",
    "NotFoundError",
    "PolicyError",
    "PrivateKey",
    "ProofBundle",
    "PublicKey",
    "Resolver",
    "SeoulVCError",
    "StateConflictError",
    "StorageError",
    "SystemClock",
    "TrustRegistry",
    "UnavailableError",
    "VerificationError",
    "VerificationMethod",
    "VerificationReport",
    "Verifier",
    "__version__",
    "did_jwk",
    "did_key",
    "load_public_key",
    "present",
    "resolve",
    "resolve_verification_method",
    "verify_bundle",
]
