"""A log's push (``push_checkpoint``) against witnesses that misbehave, on loopback HTTPS.

The happy path against a real witness service is in ``tests/service/test_witness_api.py``;
here a scripted HTTPS server answers as a broken or hostile witness would, and every answer
ends in the library's typed error, with nothing stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from https_server import LocalCA, ServerState
from seoul_vc._net import GuardedFetcher
from seoul_vc.errors import Code, SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.apps.status import PUBLISH
from seoul_vc.ledger.checkpoint import CosignerKey, cosign
from seoul_vc.ledger.entry import Entry, sign_entry, signer_did
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.tlog_witness import PushedCheckpoint, push_checkpoint

ORIGIN = "ledger.seoul.example/push-test"
PUBLISHER = PrivateKey.generate("EdDSA")
PATH = "/w/add-checkpoint"
PROBLEM = "application/problem+json"


@pytest.fixture
def log(tmp_path: Path) -> Iterator[tuple[Ledger, NoteSigner]]:
    """A ledger with its genesis entry and a stored checkpoint of size 1."""
    key = PrivateKey.generate("EdDSA")
    ledger = Ledger.open(f"sqlite:{tmp_path / 'ledger.db'}")
    try:
        ledger.genesis(
            origin=ORIGIN, operator=key, grants={signer_did(PUBLISHER.public_key): [PUBLISH]}
        )
        signer = NoteSigner(ORIGIN, key)
        ledger.checkpoint(signer)
        yield ledger, signer
    finally:
        ledger.close()


@pytest.fixture
def fetcher(local_ca: LocalCA) -> Iterator[GuardedFetcher]:
    with GuardedFetcher(
        timeout=timedelta(seconds=5),
        max_redirects=0,
        ssl_context=local_ca.client_context(),
        unsafe_allow_private_addresses=True,
    ) as guarded:
        yield guarded


WITNESS = CosignerKey("witness.example/w1", PrivateKey.generate("EdDSA"))
STRANGER = CosignerKey("witness.example/w1", PrivateKey.generate("EdDSA"))


def _send(
    log: tuple[Ledger, NoteSigner], server: ServerState, fetcher: GuardedFetcher, old_size: int = 0
) -> PushedCheckpoint:
    ledger, signer = log
    return push_checkpoint(
        ledger,
        f"https://localhost:{server.port}/w",
        log_key=signer.verifier,
        witness=WITNESS.verifier,
        fetcher=fetcher,
        old_size=old_size,
    )


def _refused(
    log: tuple[Ledger, NoteSigner], server: ServerState, fetcher: GuardedFetcher, old_size: int = 0
) -> SeoulVCError:
    with pytest.raises(SeoulVCError) as info:
        _send(log, server, fetcher, old_size)
    return info.value


def _push(log: tuple[Ledger, NoteSigner], server: ServerState, fetcher: GuardedFetcher) -> str:
    return str(_refused(log, server, fetcher).code)


def _stranger_line(log: tuple[Ledger, NoteSigner]) -> bytes:
    """A valid cosignature line, but by a key of the same name the log does not trust."""
    ledger, signer = log
    note = ledger.latest_checkpoint()
    assert note is not None
    return cosign(note, signer.verifier, STRANGER, timestamp=1)[len(note) :].encode()


@pytest.mark.parametrize(
    ("status", "media_type", "body", "code"),
    [
        # A 409 problem naming old_size_mismatch carries no size: not retried, not a KeyError;
        # a witness names only the spec's refusals, others are read by their status.
        (409, "application/problem+json", b'{"code":"old_size_mismatch"}', "log_fork_detected"),
        (400, "application/problem+json", b'{"code":"internal"}', "malformed"),
        (
            422,
            "application/problem+json",
            b'{"code":"proof_arguments_invalid"}',
            "proof_arguments_invalid",
        ),
        (409, "text/x.tlog.size", b"7\n", "log_fork_detected"),  # larger than the ledger
        (409, "text/x.tlog.size", b"007\n", "malformed"),
        (409, "text/plain", b"", "log_fork_detected"),
        (403, "text/plain", b"forbidden", "invalid_signature"),
        (404, "text/plain", b"", "not_found"),
        (422, "text/plain", b"", "consistency_proof_invalid"),
        (500, "text/plain", b"", "unavailable"),
        (200, "text/plain", b"not a signature line\n", "malformed"),
        (200, "text/plain", b"", "malformed"),
        (200, "text/plain", b"\xff\xfe\n", "malformed"),
        (200, "text/plain", "stranger", "malformed"),
    ],
)
def test_a_misbehaving_witness_ends_in_a_typed_error_and_nothing_is_stored(
    log: tuple[Ledger, NoteSigner],
    server: ServerState,
    fetcher: GuardedFetcher,
    status: int,
    media_type: str,
    body: bytes | str,
    code: str,
) -> None:
    """Each answer is refused with its code; the stored checkpoint is unchanged."""
    ledger = log[0]
    before = ledger.latest_checkpoint()
    content = _stranger_line(log) if body == "stranger" else body
    assert isinstance(content, bytes)
    server.serve(PATH, status=status, body=content, Content_Type=media_type)
    assert _push(log, server, fetcher) == code
    assert ledger.latest_checkpoint() == before
    assert server.requests == [PATH]  # one request: no retry without a size to retry from


def test_a_second_409_after_the_retry_is_reported_not_retried_again(
    log: tuple[Ledger, NoteSigner], server: ServerState, fetcher: GuardedFetcher
) -> None:
    """The witness says 0 (its size), then again 0 to the retry from 0: one retry only."""
    server.serve(PATH, status=409, body=b"0\n", Content_Type="text/x.tlog.size")
    refused = _refused(log, server, fetcher, old_size=1)
    assert (refused.code, refused.details.get("size")) == (Code.OLD_SIZE_MISMATCH, 0)
    assert server.requests == [PATH, PATH]


def _cosigning(log: tuple[Ledger, NoteSigner], server: ServerState) -> None:
    """Make the scripted witness answer with a real cosignature of the latest checkpoint."""
    ledger, signer = log
    note = ledger.latest_checkpoint()
    assert note is not None
    line = cosign(note, signer.verifier, WITNESS, timestamp=1)[len(note) :]
    server.serve(PATH, status=200, body=line.encode(), Content_Type="text/plain")


def test_an_empty_answer_after_an_earlier_push_is_not_taken_for_a_cosignature(
    log: tuple[Ledger, NoteSigner], server: ServerState, fetcher: GuardedFetcher
) -> None:
    """The stored note holds the witness's old line; the answer itself must hold a new one."""
    _cosigning(log, server)
    pushed = _send(log, server, fetcher)
    assert pushed.note.count("\u2014 witness.example/w1 ") == 1
    server.serve(PATH, status=200, body=b"", Content_Type="text/plain")
    assert _push(log, server, fetcher) == "malformed"


def test_an_old_size_past_the_checkpoint_is_a_bad_argument_and_sends_nothing(
    log: tuple[Ledger, NoteSigner], server: ServerState, fetcher: GuardedFetcher
) -> None:
    """The caller's old size is checked before any request."""
    assert _refused(log, server, fetcher, old_size=5).code is Code.BAD_ARGUMENT
    assert server.requests == []


def test_a_witness_ahead_because_the_ledger_moved_on_is_a_conflict_not_a_fork(
    log: tuple[Ledger, NoteSigner],
    server: ServerState,
    fetcher: GuardedFetcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process signed and pushed a newer checkpoint meanwhile: push again."""
    ledger, signer = log
    old = ledger.latest_checkpoint()
    ledger.append_many([_publish(n) for n in range(2)])
    newer = ledger.checkpoint(signer)  # size 3, signed (and pushed) by another process
    reads = iter([old, newer])
    monkeypatch.setattr(ledger, "latest_checkpoint", lambda: next(reads))
    server.serve(PATH, status=409, body=b"3\n", Content_Type="text/x.tlog.size")
    assert _push(log, server, fetcher) == "conflict"
    assert server.requests == [PATH]


def _publish(n: int) -> Entry:
    body = {
        "uri": f"https://status.seoul.example/lists/{n}",
        "version": 1,
        "sha256": f"{n:064x}",
        "size": 131072,
        "bits": 1,
    }
    return sign_entry(PUBLISH, body, PUBLISHER, time=int(time.time()))
