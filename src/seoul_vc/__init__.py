"""seoul_vc: verifiable credentials, DID wallets and a Merkle-log ledger for Seoul.

The public surface: keys, errors, limits and clocks, and — imported on first use, so
``import seoul_vc`` stays cheap — DIDs, credentials (:class:`Issuer`, :func:`present`,
:class:`Verifier` with its :class:`VerificationReport`, and the :class:`TrustRegistry`), the
:class:`Ledger` and its offline :class:`ProofBundle` (checked by :func:`verify_bundle`), and
the rooms built on them: :class:`StatusRegistry` and :class:`StatusChecker` (revocation), the
Citizen Card :class:`WalletService` and :class:`CitizenWallet`, :class:`Poll` (voting
identity) and :class:`MileageAccounts`. Advanced rooms —
:mod:`seoul_vc.jose` (compact JWS) and :mod:`seoul_vc.ledger.tlog` (Merkle proofs) — are
importable but deliberately not re-exported: they are a hazmat layer.

Example:
    >>> import seoul_vc
    >>> key = seoul_vc.PrivateKey.generate("ES256")
    >>> did = seoul_vc.did_key(key.public_key)
    >>> str(seoul_vc.resolve(did).id) == did
    True
"""

import importlib
import importlib.util
import threading
from typing import TYPE_CHECKING, Final

from seoul_vc.clock import Clock, FixedClock, SystemClock
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
from seoul_vc.limits import Limits

if TYPE_CHECKING:  # the lazy names below, for type checkers
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
    from seoul_vc.ledger.bundle import ProofBundle, verify_bundle
    from seoul_vc.ledger.log import Ledger
    from seoul_vc.mileage import MileageAccounts
    from seoul_vc.status import StatusChecker, StatusRegistry
    from seoul_vc.voting import Poll
    from seoul_vc.wallet import CitizenWallet, WalletService

__version__ = "0.1.0"

#: Public names beyond errors, keys, limits and clocks, imported on first access (PEP 562):
#: ``import seoul_vc`` (and so every ``seoul-vc`` command) loads only what it uses. The
#: credentials and DID rooms alone bring in the HTTP client (did:web, issuer metadata).
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ("Issuer", "TrustRegistry", "VerificationReport", "Verifier", "present"),
        "seoul_vc.credentials",
    ),
    **dict.fromkeys(
        (
            "CachingResolver",
            "MethodResolver",
            "Resolver",
            "VerificationMethod",
            "resolve",
            "resolve_verification_method",
        ),
        "seoul_vc.did",
    ),
    "did_jwk": "seoul_vc.did.jwk",
    "did_key": "seoul_vc.did.key",
    "ProofBundle": "seoul_vc.ledger.bundle",
    "verify_bundle": "seoul_vc.ledger.bundle",
    "Ledger": "seoul_vc.ledger.log",
    "StatusRegistry": "seoul_vc.status",
    "StatusChecker": "seoul_vc.status",
    "WalletService": "seoul_vc.wallet",
    "CitizenWallet": "seoul_vc.wallet",
    "Poll": "seoul_vc.voting",
    "MileageAccounts": "seoul_vc.mileage",
}


# One lazy import at a time: two threads importing two rooms for the first time at once can
# meet in a cycle of the import system's per-module locks (_DeadlockError). Safe to hold
# while importing, because no library module reads a lazy name of this package as it loads.
_IMPORTING: Final = threading.RLock()


def __getattr__(name: str) -> object:
    """Import a lazy public name, or a public subpackage (``seoul_vc.ledger``), on first use."""
    module = _LAZY.get(name)
    if module is None:
        if name.startswith("_") or importlib.util.find_spec(f"seoul_vc.{name}") is None:
            raise AttributeError(f"module 'seoul_vc' has no attribute {name!r}")
        return importlib.import_module(f"seoul_vc.{name}")
    with _IMPORTING:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Every public name, the lazy ones included (before their first use too)."""
    return sorted({*globals(), *__all__})


__all__ = [
    "CachingResolver",
    "CitizenWallet",
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
    "MileageAccounts",
    "NotFoundError",
    "PolicyError",
    "Poll",
    "PrivateKey",
    "ProofBundle",
    "PublicKey",
    "Resolver",
    "SeoulVCError",
    "StateConflictError",
    "StatusChecker",
    "StatusRegistry",
    "StorageError",
    "SystemClock",
    "TrustRegistry",
    "UnavailableError",
    "VerificationError",
    "VerificationMethod",
    "VerificationReport",
    "Verifier",
    "WalletService",
    "__version__",
    "did_jwk",
    "did_key",
    "load_public_key",
    "present",
    "resolve",
    "resolve_verification_method",
    "verify_bundle",
]
