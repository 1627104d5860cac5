"""The running service's parts, built once from a :class:`ServiceConfig` and shared by routes.

Room: service (surface). :class:`Service` opens the ledger (writing its genesis on first
start: the operator, and grants for the service's own issuer key), the trust registry, the
outgoing-HTTPS settings, and each configured role's library objects. Routes only call these
objects; everything they decide is decided here by the library.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from seoul_vc._net import GuardedFetcher
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.credentials import TrustRegistry
from seoul_vc.did import CachingResolver, MethodResolver, Resolver
from seoul_vc.did.web import WebResolver
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError
from seoul_vc.ledger.bundle import parse_cosigner_key
from seoul_vc.ledger.checkpoint import WitnessPolicy
from seoul_vc.ledger.entry import signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.limits import Limits
from seoul_vc.service._http import FailureLimiter
from seoul_vc.service.config import ServiceConfig
from seoul_vc.status import HTTPSSource, StatusChecker
from seoul_vc.wallet import WalletService

__all__ = ["Network", "Service"]

ISSUER_FRAGMENT: Final = "issuer-1"
VERIFIER_FRAGMENT: Final = "verifier-1"
#: Ledger record types the service's own issuer key is granted at genesis.
ISSUER_GRANTS: Final = ("status.publish",)


@dataclass(frozen=True, slots=True)
class Network:
    """How the service reaches other hosts (did:web, request_uri, metadata, status lists)."""

    ssl_context: ssl.SSLContext | None = None
    unsafe_allow_private_addresses: bool = False

    def fetcher(self, *, timeout_seconds: float = 5.0, max_redirects: int = 0) -> GuardedFetcher:
        """A new guarded HTTPS fetcher with these settings."""
        from datetime import timedelta

        return GuardedFetcher(
            timeout=timedelta(seconds=timeout_seconds),
            max_redirects=max_redirects,
            user_agent="seoul-vc service",
            ssl_context=self.ssl_context,
            unsafe_allow_private_addresses=self.unsafe_allow_private_addresses,
        )


class Service:
    """Everything the routes need, opened from a configuration.

    Args:
        config: the configuration.
        clock: the time source (tests pin it); limits: the library bounds.
        network: outgoing HTTPS settings (default: from the config).

    Attributes:
        ledger: the ledger; log_signer: signs its checkpoints; did: the service's did:web.
        trust: the trust registry; resolver: DID resolver (did:key, did:jwk, did:web).
        witness_policy: the configured witnesses and threshold.
        status: a status checker fetching lists over guarded HTTPS.
        wallets: the Citizen Card wallet service, or None when the role is not run.
        pin_limiter: failed PIN tries per client (the wallet limits them per citizen).
    """

    def __init__(
        self,
        config: ServiceConfig,
        *,
        clock: Clock | None = None,
        limits: Limits | None = None,
        network: Network | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.limits = limits or Limits()
        self.network = network or _network_of(config)
        self.public_url = config.public_url
        self.did = config.did
        self._closers: list[Callable[[], None]] = []
        self.trust = TrustRegistry.from_json(config.trust)
        web = WebResolver(
            limits=self.limits,
            ssl_context=self.network.ssl_context,
            unsafe_allow_private_addresses=self.network.unsafe_allow_private_addresses,
        )
        self._closers.append(web.close)
        self.resolver: Resolver = CachingResolver(MethodResolver(web=web), limits=self.limits)
        self.ledger = Ledger.open(config.stores["ledger"], clock=self.clock, limits=self.limits)
        self._closers.append(self.ledger.close)
        if self.ledger.size == 0:
            grants: dict[str, list[str]] = {}
            if config.issuer is not None:
                grants[signer_did(config.issuer.key.public_key)] = list(ISSUER_GRANTS)
            self.ledger.genesis(origin=config.origin, operator=config.operator_key, grants=grants)
        elif self.ledger.origin != config.origin:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the ledger's origin is not the config's")
        self.log_signer = NoteSigner(config.origin, config.operator_key)
        try:
            cosigners = tuple(parse_cosigner_key(v) for v in config.witnesses)
        except MalformedInputError as exc:
            raise ConfigurationError(Code.BAD_ARGUMENT, "a witness vkey does not parse") from exc
        self.witness_policy = (
            WitnessPolicy(witnesses=cosigners, threshold=config.witness_threshold)
            if cosigners
            else WitnessPolicy.unwitnessed()
        )

        source = HTTPSSource(self.network.fetcher(timeout_seconds=5.0))
        self._closers.append(source.close)
        self.status = StatusChecker(
            source=source,
            resolver=self.resolver,
            clock=self.clock,
            limits=self.limits,
        )
        self.wallets: WalletService | None = None
        if config.master_key is not None:
            self.wallets = WalletService(
                config.stores["wallet"],
                ledger=self.ledger,
                master_key=config.master_key,
                trust=self.trust,
                log_signer=self.log_signer,
                status=self.status,
                resolver=self.resolver,
                clock=self.clock,
                limits=self.limits,
            )
            self._closers.append(self.wallets.close)
        self.pin_limiter = FailureLimiter(max_failures=20, window=900.0)

    # -- identities --------------------------------------------------------------------------
    def kid(self, fragment: str) -> str:
        """The DID URL of one of the service's keys in its did:web document."""
        return f"{self.did}#{fragment}"

    def url(self, path: str) -> str:
        """An absolute URL of ``path`` on this service."""
        return self.public_url + path

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` when the service closes (route modules register their stores)."""
        self._closers.append(closer)

    def close(self) -> None:
        """Close every store and connection pool, last opened first."""
        while self._closers:
            self._closers.pop()()


def _network_of(config: ServiceConfig) -> Network:
    context = None
    if config.tls_ca_file is not None:
        try:
            context = ssl.create_default_context(cafile=config.tls_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(Code.UNREADABLE_INPUT, "cannot read tls_ca_file") from exc
    return Network(context, config.unsafe_allow_private_addresses)
