"""The ledger API on a real uvicorn server: checkpoints, witnesses, entries, proofs, refusals.

Two witness agencies (2-of-2) cosign over HTTP with the library's witness client; what the
service then serves must open under that policy, and every proof fetched over HTTP must
check with :mod:`seoul_vc.ledger.tlog` against a served checkpoint. Every refusal is
asserted by status and code.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from live_service import LiveService, problem, publish

from seoul_vc.clock import FixedClock
from seoul_vc.errors import SeoulVCError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.bundle import ProofBundle, format_cosigner_key, verify_bundle
from seoul_vc.ledger.checkpoint import (
    Checkpoint,
    CosignedCheckpoint,
    CosignerKey,
    WitnessPolicy,
    cosign,
    open_checkpoint,
    sign_checkpoint,
)
from seoul_vc.ledger.entry import Entry
from seoul_vc.ledger.note import NoteSigner
from seoul_vc.ledger.witness import Witness
from seoul_vc.ledger.witness_client import cosign_remote_log
from seoul_vc.service.routes import ledger as ledger_routes

StartService = Callable[..., LiveService]

CHECKPOINT = "/ledger/v1/checkpoint"
ENTRIES = "/ledger/v1/entries"
INCLUSION = "/ledger/v1/proofs/inclusion"
CONSISTENCY = "/ledger/v1/proofs/consistency"
BUNDLE = "/ledger/v1/proofs/bundle"
COSIGNATURES = "/ledger/v1/cosignatures"
NOTE_TYPE = {"content-type": "text/plain; charset=utf-8"}


# -- helpers ----------------------------------------------------------------------------------


class Agencies:
    """Two witness agencies' keys, and their witnesses once a log is known."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keys = [
            CosignerKey(f"witness-{n}.seoul.example", PrivateKey.generate("EdDSA")) for n in (1, 2)
        ]
        self.vkeys = [format_cosigner_key(k.verifier) for k in self.keys]
        self.policy = WitnessPolicy(witnesses=tuple(k.verifier for k in self.keys), threshold=2)

    def witness(self, live: LiveService, n: int, state: str | None = None) -> Witness:
        """Witness ``n`` (0 or 1) of ``live``'s log, remembering in ``state``."""
        return Witness(
            self.keys[n],
            logs={live.config.origin: live.service.log_signer.verifier},
            state_path=self.folder / (state or f"witness-{n}.json"),
        )

    def ledger_config(self) -> dict[str, object]:
        return {"witnesses": self.vkeys, "witness_threshold": 2}


@pytest.fixture
def agencies(tmp_path: Path) -> Agencies:
    """Two witness agencies with fresh keys."""
    return Agencies(tmp_path)


@pytest.fixture
def witnessed(start_service: StartService, agencies: Agencies) -> LiveService:
    """A service whose checkpoints need both agencies' cosignatures."""
    return start_service("witnessed", ledger=agencies.ledger_config())


def _round(live: LiveService, witness: Witness) -> str:
    with live.service.network.fetcher() as fetcher:
        return cosign_remote_log(witness, live.url, origin=live.config.origin, fetcher=fetcher).note


def _checkpoint(live: LiveService) -> str:
    response = live.client.get(CHECKPOINT)
    assert response.status_code == 200, response.text
    return response.text


def _open(live: LiveService, note: str, policy: WitnessPolicy) -> CosignedCheckpoint:
    return open_checkpoint(
        note,
        origin=live.config.origin,
        log_key=live.service.log_signer.verifier,
        witnesses=policy,
    )


def _size(live: LiveService, note: str) -> int:
    return _open(live, note, WitnessPolicy.unwitnessed()).checkpoint.size


def _hashes(values: list[str]) -> tuple[tlog.Hash, ...]:
    return tuple(tlog.Hash(base64.b64decode(v, validate=True)) for v in values)


def _now() -> int:
    return int(time.time())


def _flip_last_signature(note: str) -> str:
    """Flip one bit in the signature of the note's last line."""
    head, _, line = note[:-1].rpartition("\n")
    prefix, _, b64 = line.rpartition(" ")
    blob = bytearray(base64.b64decode(b64))
    blob[-1] ^= 1
    return f"{head}\n{prefix} {base64.b64encode(bytes(blob)).decode()}\n"


# -- checkpoints and witnesses ----------------------------------------------------------------


def test_two_witnesses_cosign_over_http_and_the_checkpoint_meets_the_policy(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """Both agencies cosign through the client; the served note opens under 2-of-2."""
    publish(witnessed, 3)
    first = _checkpoint(witnessed)
    assert _size(witnessed, first) == 4
    with pytest.raises(SeoulVCError) as info:
        _open(witnessed, first, agencies.policy)
    assert info.value.code == "witness_quorum_not_met"

    w1, w2 = agencies.witness(witnessed, 0), agencies.witness(witnessed, 1)
    _round(witnessed, w1)
    stored = _round(witnessed, w2)
    response = witnessed.client.get(CHECKPOINT)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=5"
    assert response.text == stored
    opened = _open(witnessed, response.text, agencies.policy)
    assert opened.checkpoint.size == 4
    assert opened.checkpoint.root_hash == witnessed.service.ledger.root(4)
    assert {c.witness for c in opened.cosignatures} == set(agencies.policy.witnesses)


def test_the_log_moves_on_once_witnessed_and_witnesses_follow_with_proofs(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """After the quorum, growth yields a new checkpoint, cosigned via consistency proofs."""
    w1, w2 = agencies.witness(witnessed, 0), agencies.witness(witnessed, 1)
    _round(witnessed, w1)
    _round(witnessed, w2)
    publish(witnessed, 5)
    note = _checkpoint(witnessed)
    assert _size(witnessed, note) == 6
    with witnessed.service.network.fetcher() as fetcher:
        done = cosign_remote_log(w1, witnessed.url, origin=witnessed.config.origin, fetcher=fetcher)
    assert done.previous_size == 1
    assert done.checkpoint.size == 6
    _round(witnessed, w2)
    opened = _open(witnessed, _checkpoint(witnessed), agencies.policy)
    assert opened.checkpoint.size == 6
    assert w1.latest(witnessed.config.origin) == Checkpoint(
        origin=witnessed.config.origin, size=6, root_hash=witnessed.service.ledger.root()
    )


def test_an_unwitnessed_checkpoint_is_kept_until_the_patience_runs_out(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """With one of two cosignatures, growth does not replace the checkpoint for 60 s.

    A cosignature arriving meanwhile changes the note but does not restart the wait.
    """
    clock = FixedClock(datetime.now(UTC))
    witnessed.service.clock = clock  # the checkpoint rule's time source
    _round(witnessed, agencies.witness(witnessed, 0))
    publish(witnessed, 2)
    held = _checkpoint(witnessed)
    assert _size(witnessed, held) == 1
    assert "witness-1.seoul.example" in held
    clock.advance(timedelta(seconds=40))
    later = cosign(
        held, witnessed.service.log_signer.verifier, agencies.keys[0], timestamp=_now() + 30
    )
    response = witnessed.client.post(COSIGNATURES, content=later, headers=NOTE_TYPE)
    assert response.status_code == 200, response.text
    assert _checkpoint(witnessed) == response.text != held
    clock.advance(timedelta(seconds=19))
    assert _size(witnessed, _checkpoint(witnessed)) == 1
    clock.advance(timedelta(seconds=1))
    assert _size(witnessed, _checkpoint(witnessed)) == 3


def test_repeating_a_round_keeps_one_line_per_witness(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """A witness cosigning the same checkpoint again leaves one line of its own."""
    w1 = agencies.witness(witnessed, 0)
    _round(witnessed, w1)
    note = _round(witnessed, w1)
    assert note.count("\u2014 witness-1.seoul.example ") == 1
    assert note == _checkpoint(witnessed)


def test_a_witness_client_refuses_rollback_and_fork(
    start_service: StartService, agencies: Agencies
) -> None:
    """A log that shows a smaller or different tree under the same key is refused."""
    honest = start_service("honest", ledger=agencies.ledger_config())
    publish(honest, 2)
    w1 = agencies.witness(honest, 0)
    _round(honest, w1)
    seen = w1.latest(honest.config.origin)
    assert seen is not None
    assert seen.size == 3
    # Another log with the same origin and key: a fork of the honest one.
    operator = str(honest.folder / "keys" / "operator.jwk")
    # Without witnesses of its own, the forked log signs a checkpoint whenever it grew.
    forked = start_service("forked", ledger={"operator_key": operator})
    assert forked.service.log_signer.verifier == honest.service.log_signer.verifier
    expected = {1: "log_fork_detected", 3: "log_fork_detected", 5: "consistency_proof_invalid"}
    for size, code in expected.items():
        if size > forked.service.ledger.size:
            publish(forked, size - forked.service.ledger.size)
        with pytest.raises(SeoulVCError) as info:
            _round(forked, w1)
        assert info.value.code == code
        assert w1.latest(honest.config.origin) == seen
    assert "witness-1.seoul.example" not in _checkpoint(forked)


# -- submissions the log refuses --------------------------------------------------------------


def test_a_cosignature_by_an_unknown_witness_is_refused(witnessed: LiveService) -> None:
    """A cosignature line from a key that is not configured: 403 untrusted_signer."""
    stranger = CosignerKey("stranger.example/witness", PrivateKey.generate("EdDSA"))
    note = cosign(
        _checkpoint(witnessed),
        witnessed.service.log_signer.verifier,
        stranger,
        timestamp=_now(),
    )
    response = witnessed.client.post(COSIGNATURES, content=note, headers=NOTE_TYPE)
    problem(response, 403, "untrusted_signer")


def test_a_bad_cosignature_is_refused(witnessed: LiveService, agencies: Agencies) -> None:
    """A configured witness's line that does not verify: 422 invalid_signature."""
    note = cosign(
        _checkpoint(witnessed),
        witnessed.service.log_signer.verifier,
        agencies.keys[0],
        timestamp=_now(),
    )
    response = witnessed.client.post(
        COSIGNATURES, content=_flip_last_signature(note), headers=NOTE_TYPE
    )
    problem(response, 422, "invalid_signature")


def test_a_cosignature_dated_in_the_future_is_refused(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """A cosignature an hour ahead of the log's clock: 422 invalid_signature."""
    note = cosign(
        _checkpoint(witnessed),
        witnessed.service.log_signer.verifier,
        agencies.keys[0],
        timestamp=_now() + 3600,
    )
    response = witnessed.client.post(COSIGNATURES, content=note, headers=NOTE_TYPE)
    problem(response, 422, "invalid_signature")


def test_cosigning_a_checkpoint_the_log_never_signed_is_refused(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """Another key under the log's name, or the log's line on other text: 422."""
    origin = witnessed.config.origin
    fake = Checkpoint(origin=origin, size=1, root_hash=bytes(32))
    impostor = NoteSigner(origin, PrivateKey.generate("EdDSA"))
    forged = cosign(
        sign_checkpoint(fake, impostor), impostor.verifier, agencies.keys[0], timestamp=1
    )
    response = witnessed.client.post(COSIGNATURES, content=forged, headers=NOTE_TYPE)
    problem(response, 422, "invalid_signature")
    # The log's real signature line, moved onto a checkpoint text it never signed.
    real = _checkpoint(witnessed)
    real_text, _, log_line = real.partition("\n\n")
    fake_text = f"{origin}\n1\n{base64.b64encode(bytes(32)).decode()}\n"
    assert fake_text != real_text + "\n"
    moved = fake_text + "\n" + log_line + agencies.keys[0].signature_line(fake_text, 1)
    response = witnessed.client.post(COSIGNATURES, content=moved, headers=NOTE_TYPE)
    problem(response, 422, "invalid_signature")


def test_a_cosignature_of_an_older_checkpoint_is_a_conflict(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """Once the log signed a newer checkpoint, the older one takes no cosignature: 409."""
    clock = FixedClock(datetime.now(UTC))
    witnessed.service.clock = clock
    old = _checkpoint(witnessed)
    late = cosign(old, witnessed.service.log_signer.verifier, agencies.keys[0], timestamp=_now())
    publish(witnessed, 1)
    assert _size(witnessed, _checkpoint(witnessed)) == 1
    clock.advance(timedelta(seconds=ledger_routes.CHECKPOINT_PATIENCE))
    assert _size(witnessed, _checkpoint(witnessed)) == 2
    response = witnessed.client.post(COSIGNATURES, content=late, headers=NOTE_TYPE)
    body = problem(response, 409, "conflict")
    assert body["details"] == {"size": 1, "latest_size": 2}


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"", NOTE_TYPE, 400, "malformed"),
        (b"\xff\xfe not utf-8", NOTE_TYPE, 400, "malformed"),
        (b"x", {"content-type": "application/json"}, 400, "malformed"),
        (b"x", {"content-type": "text/plain; charset=latin-1"}, 400, "malformed"),
        (b"x" * (64 * 1024 + 1), NOTE_TYPE, 413, "too_large"),
    ],
    ids=["empty", "not-utf8", "json", "latin1", "oversized"],
)
def test_malformed_submissions_are_refused(
    witnessed: LiveService,
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    """Bodies that are no note at all are refused before any signature is checked."""
    response = witnessed.client.post(COSIGNATURES, content=content, headers=headers)
    problem(response, status, code)


def test_a_note_with_only_the_log_signature_is_refused(witnessed: LiveService) -> None:
    """Sending the checkpoint back without a cosignature: 400 malformed."""
    response = witnessed.client.post(
        COSIGNATURES, content=_checkpoint(witnessed), headers=NOTE_TYPE
    )
    problem(response, 400, "malformed")


# -- entries and proofs -----------------------------------------------------------------------


def test_entries_come_in_bounded_pages(live_service: LiveService) -> None:
    """Pages hold at most 256 entries, in order, as the ledger holds them."""
    publish(live_service, 299)  # with the genesis: 300 entries
    ledger = live_service.service.ledger
    first = live_service.client.get(ENTRIES, params={"start": "0"})
    assert first.status_code == 200
    page = first.json()
    assert (page["start"], page["end"], page["size"]) == (0, 256, 300)
    assert len(page["entries"]) == 256
    assert first.headers["cache-control"] == "public, max-age=86400, immutable"
    rest = live_service.client.get(ENTRIES, params={"start": "256", "end": "1000"}).json()
    assert (rest["start"], rest["end"]) == (256, 300)
    assert len(rest["entries"]) == 44
    entries = [Entry.from_json(e) for e in page["entries"] + rest["entries"]]
    assert [e.to_bytes() for e in entries] == [ledger.entry(i).to_bytes() for i in range(300)]
    few = live_service.client.get(ENTRIES, params={"start": "7", "end": "9"}).json()
    assert few["entries"] == page["entries"][7:9]


def test_proofs_fetched_over_http_check_against_served_checkpoints(
    live_service: LiveService,
) -> None:
    """Inclusion proofs of every entry and a consistency proof between two checkpoints."""
    client = live_service.client
    publish(live_service, 4)
    old = _open(live_service, _checkpoint(live_service), WitnessPolicy.unwitnessed()).checkpoint
    publish(live_service, 6)
    new = _open(live_service, _checkpoint(live_service), WitnessPolicy.unwitnessed()).checkpoint
    assert (old.size, new.size) == (5, 11)
    page = client.get(ENTRIES, params={"start": "0", "end": str(new.size)}).json()
    for index, obj in enumerate(page["entries"]):
        response = client.get(INCLUSION, params={"index": str(index), "size": str(new.size)})
        body = response.json()
        assert (body["index"], body["size"]) == (index, new.size)
        assert response.headers["cache-control"] == "public, max-age=86400, immutable"
        tlog.check_inclusion(
            tlog.InclusionProof(hashes=_hashes(body["inclusion_proof"])),
            new.size,
            tlog.Hash(new.root_hash),
            index,
            tlog.leaf_hash(Entry.from_json(obj).to_bytes()),
        )
    params = {"first": str(old.size), "second": str(new.size)}
    body = client.get(CONSISTENCY, params=params).json()
    assert (body["first"], body["second"]) == (old.size, new.size)
    tlog.check_consistency(
        tlog.ConsistencyProof(hashes=_hashes(body["consistency_proof"])),
        new.size,
        tlog.Hash(new.root_hash),
        old.size,
        tlog.Hash(old.root_hash),
    )
    empty = client.get(CONSISTENCY, params={"first": "0", "second": str(new.size)}).json()
    assert empty["consistency_proof"] == []


def test_a_proof_bundle_verifies_offline_under_the_witness_policy(
    witnessed: LiveService, agencies: Agencies
) -> None:
    """Bundle of a cosigned entry verifies; an entry no checkpoint covers yet is a 409."""
    publish(witnessed, 2)
    _checkpoint(witnessed)
    _round(witnessed, agencies.witness(witnessed, 0))
    _round(witnessed, agencies.witness(witnessed, 1))
    response = witnessed.client.get(BUNDLE, params={"index": "2"})
    assert response.status_code == 200, response.text
    entry = verify_bundle(
        ProofBundle.from_json(response.content),
        origin=witnessed.config.origin,
        log_key=witnessed.service.log_signer.verifier,
        witnesses=agencies.policy,
    )
    assert entry.to_bytes() == witnessed.service.ledger.entry(2).to_bytes()
    publish(witnessed, 1)
    assert _size(witnessed, _checkpoint(witnessed)) == 4  # signed, not yet cosigned
    publish(witnessed, 1)  # entry 4: held back until the witnesses cosign size 4
    refused = witnessed.client.get(BUNDLE, params={"index": "4"})
    body = problem(refused, 409, "conflict")
    assert refused.headers["retry-after"] == "5"
    assert body["details"] == {"index": 4, "retry_after": 5}


_BAD_INTEGERS = [
    "\u0661\u0662",  # Arabic-Indic digits: int() takes them
    "1_0",
    "-1",
    "+1",
    " 1",
    "1 ",
    "01",
    "",
    "1.0",
    "0x1",
    "9007199254740992",  # 2**53
    "9" * 40,
]


@pytest.mark.parametrize("value", _BAD_INTEGERS)
@pytest.mark.parametrize(
    ("path", "name", "other"),
    [
        (ENTRIES, "start", {}),
        (ENTRIES, "end", {"start": "0"}),
        (INCLUSION, "index", {"size": "1"}),
        (INCLUSION, "size", {"index": "0"}),
        (CONSISTENCY, "first", {"second": "1"}),
        (CONSISTENCY, "second", {"first": "0"}),
        (BUNDLE, "index", {}),
    ],
)
def test_query_integers_are_parsed_strictly(
    live_service: LiveService, path: str, name: str, other: dict[str, str], value: str
) -> None:
    """Anything but a canonical ASCII decimal up to 2**53 - 1 is a 400 malformed."""
    response = live_service.client.get(path, params={**other, name: value})
    body = problem(response, 400, "malformed")
    assert body["details"] == {"parameter": name}


@pytest.mark.parametrize(
    "query",
    [
        "start=0&start=1",  # repeated
        "start=0&limit=5",  # unknown
        "end=5",  # missing
        "start=%D9%A1",  # percent-encoded Arabic-Indic one
    ],
)
def test_query_parameter_sets_are_checked(live_service: LiveService, query: str) -> None:
    """A repeated, unknown or missing parameter is a 400 malformed."""
    problem(live_service.client.get(f"{ENTRIES}?{query}"), 400, "malformed")


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (ENTRIES, {"start": "3", "end": "2"}, 400),
        (ENTRIES, {"start": "2", "end": "2"}, 400),
        (INCLUSION, {"index": "3", "size": "3"}, 400),
        (CONSISTENCY, {"first": "3", "second": "2"}, 400),
        (ENTRIES, {"start": "3"}, 404),
        (ENTRIES, {"start": str(2**53 - 1)}, 404),
        (INCLUSION, {"index": "0", "size": "4"}, 404),
        (CONSISTENCY, {"first": "1", "second": "4"}, 404),
        (BUNDLE, {"index": "3"}, 404),
    ],
)
def test_bad_ranges_and_reads_past_the_end(
    live_service: LiveService, path: str, params: dict[str, str], status: int
) -> None:
    """Empty or reversed ranges are 400 malformed; past the log's size, 404 not_found."""
    publish(live_service, 2)  # 3 entries
    code = "malformed" if status == 400 else "not_found"
    problem(live_service.client.get(path, params=params), status, code)


def test_the_openapi_document_describes_the_ledger_api(live_service: LiveService) -> None:
    """Every ledger operation is described, with the query patterns the service enforces."""
    paths = live_service.client.get("/openapi.json").json()["paths"]
    ledger_paths = {p for p in paths if p.startswith("/ledger/v1/")}
    assert ledger_paths == {CHECKPOINT, ENTRIES, INCLUSION, CONSISTENCY, BUNDLE, COSIGNATURES}
    for name in ("index", "size"):
        (param,) = [p for p in paths[INCLUSION]["get"]["parameters"] if p["name"] == name]
        assert param["schema"]["pattern"] == "^(0|[1-9][0-9]{0,15})$"
        assert param["required"] is True
    responses = paths[COSIGNATURES]["post"]["responses"]
    assert set(responses) == {"200", "400", "403", "409", "413", "422", "503"}


# -- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL URL whose schema prefix is fresh; the four room schemas are dropped after.

    Request it before ``start_service`` so the services stop before the schemas go.
    """
    url = request.getfixturevalue("pg_schema_url")  # skips with PG_SKIP_REASON without a DSN
    base, _, query = url.partition("?")
    prefix = dict(p.split("=", 1) for p in query.split("&"))["schema"]
    yield url
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        for room in ("ledger", "wallet", "status", "service"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}_{room}" CASCADE')


@pytest.mark.postgres
def test_witnessing_and_proofs_on_postgresql(
    pg_database: str, start_service: StartService, agencies: Agencies
) -> None:
    """The same round, entries page and proofs over a PostgreSQL-backed service."""
    live = start_service("pg", data_dir=None, database=pg_database, ledger=agencies.ledger_config())
    assert live.config.stores["ledger"].startswith("postgresql://")
    publish(live, 3)
    _checkpoint(live)
    _round(live, agencies.witness(live, 0))
    _round(live, agencies.witness(live, 1))
    cp = _open(live, _checkpoint(live), agencies.policy).checkpoint
    assert cp.size == 4
    page = live.client.get(ENTRIES, params={"start": "0"}).json()
    assert page["end"] == 4
    body = live.client.get(INCLUSION, params={"index": "3", "size": "4"}).json()
    tlog.check_inclusion(
        tlog.InclusionProof(hashes=_hashes(body["inclusion_proof"])),
        4,
        tlog.Hash(cp.root_hash),
        3,
        tlog.leaf_hash(Entry.from_json(page["entries"][3]).to_bytes()),
    )
    response = live.client.get(BUNDLE, params={"index": "1"})
    verify_bundle(
        ProofBundle.from_json(response.content),
        origin=live.config.origin,
        log_key=live.service.log_signer.verifier,
        witnesses=agencies.policy,
    )
