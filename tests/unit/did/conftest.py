"""did:web fixtures: resolvers trusting the test CA, and DID documents for the test key.

The HTTPS servers themselves are the ``https_server`` plugin (``tests/https_server.py``).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import pytest

from https_server import LocalCA, did_document
from seoul_vc.did.web import WebResolver
from seoul_vc.keys import PrivateKey
from seoul_vc.limits import Limits


@pytest.fixture
def make_resolver(local_ca: LocalCA) -> Iterator[Callable[..., WebResolver]]:
    """Build WebResolvers trusting the test CA (guard off unless asked), closed afterwards."""
    made: list[WebResolver] = []

    def make(
        *,
        limits: Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
        unsafe_allow_private_addresses: bool = True,
    ) -> WebResolver:
        resolver = WebResolver(
            limits=limits,
            ssl_context=ssl_context or local_ca.client_context(),
            unsafe_allow_private_addresses=unsafe_allow_private_addresses,
        )
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()


@pytest.fixture
def resolver(make_resolver: Callable[..., WebResolver]) -> WebResolver:
    """A resolver that trusts the test CA and may connect to loopback."""
    return make_resolver()


@pytest.fixture(scope="session")
def key() -> PrivateKey:
    """The key the test DID documents list."""
    return PrivateKey.generate()


@pytest.fixture
def document(key: PrivateKey) -> Callable[[str], dict[str, object]]:
    """Build the DID document of a DID, listing ``key`` as its assertion method."""
    return lambda did: did_document(did, key.public_key)
