"""Delivering a direct_post response whose view is already spent: one retry, then unavailable.

Against a real HTTPS server on loopback (tests/https_server.py) that drops the first POSTs to
a ``/drop/<n>/`` path without a reply, as a verifier behind a failing proxy would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from https_server import LocalCA, ServerState
from seoul_vc._net import GuardedFetcher
from seoul_vc.wallet import oid4vp


@pytest.fixture
def fetcher(local_ca: LocalCA) -> Iterator[GuardedFetcher]:
    client = GuardedFetcher(
        timeout=timedelta(seconds=5),
        max_redirects=0,
        ssl_context=local_ca.client_context(),
        unsafe_allow_private_addresses=True,
    )
    yield client
    client.close()


def _url(server: ServerState, path: str) -> str:
    return f"https://localhost:{server.port}{path}"


def test_a_dropped_response_is_sent_again_once(
    server: ServerState, fetcher: GuardedFetcher
) -> None:
    server.serve("/drop/1/response", 200, b"{}", Content_Type="application/json")
    reply, attempts = oid4vp._deliver(fetcher, _url(server, "/drop/1/response"), b"vp_token=x")
    assert reply is not None
    assert (reply.status, attempts) == (200, 2)
    assert server.requests.count("/drop/1/response") == 2


def test_a_verifier_still_unreachable_gives_none_after_the_tries(
    server: ServerState, fetcher: GuardedFetcher
) -> None:
    reply, attempts = oid4vp._deliver(fetcher, _url(server, "/drop/9/response"), b"vp_token=x")
    assert reply is None
    assert attempts == oid4vp._DELIVERY_ATTEMPTS
    assert server.requests.count("/drop/9/response") == oid4vp._DELIVERY_ATTEMPTS


def test_a_refusal_is_a_reply_and_is_not_sent_again(
    server: ServerState, fetcher: GuardedFetcher
) -> None:
    server.serve("/refuses", 409, b'{"code": "already_answered"}', Content_Type="application/json")
    reply, attempts = oid4vp._deliver(fetcher, _url(server, "/refuses"), b"vp_token=x")
    assert reply is not None
    assert (reply.status, attempts) == (409, 1)
    assert server.requests.count("/refuses") == 1
