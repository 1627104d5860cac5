"""Real-process ledger tests: a store URL per backend, and child writers that are cleaned up.

``store_url`` is an empty ledger store, once on SQLite (a temporary file) and once on
PostgreSQL (a fresh schema on the server named by ``SEOUL_VC_TEST_PG_DSN``, dropped
afterwards; skipped with a reason without the variable). ``writers`` starts
``ledger_writer.py`` children (see its docstring) and kills any still running at teardown.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

PG_DSN_VARIABLE = "SEOUL_VC_TEST_PG_DSN"
PG_SKIP_REASON = "PostgreSQL tests need SEOUL_VC_TEST_PG_DSN (set by .ci/run)"
WRITER_SCRIPT = Path(__file__).with_name("ledger_writer.py")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty ledger store: SQLite, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:{tmp_path / 'ledger.db'}"
        return
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if not dsn:
        pytest.skip(PG_SKIP_REASON)
    import psycopg

    schema = f"test_{secrets.token_hex(6)}"
    yield f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Writer:
    """A running ``ledger_writer.py``: its stdout lines are collected by a thread."""

    def __init__(self, args: list[str], stderr_path: Path, *, stdin: bool) -> None:
        self._stderr_path = stderr_path
        self._stderr: IO[str] = stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER_SCRIPT), *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: list[str] = []
        self._eof = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def stderr(self) -> str:
        """What the child wrote to stderr so far (for failure messages)."""
        self._stderr.flush()
        return self._stderr_path.read_text()

    def wait_for_lines(self, count: int, timeout: float = 60.0) -> None:
        """Wait until the child printed ``count`` lines; fail if it exits or stalls first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.lines) < count and not self._eof:
                if not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    break
            if len(self.lines) < count:
                pytest.fail(f"writer printed {len(self.lines)} of {count} lines:\n{self.stderr()}")

    def send(self, line: str) -> None:
        """Write one line to the child's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def acks(self) -> list[tuple[int, str]]:
        """Return the acknowledged ``(index, base64 entry)`` pairs, complete lines only."""
        with self._changed:
            lines = list(self.lines)
        acks = []
        for line in lines:
            if line.startswith("ack ") and line.endswith("\n"):
                _, index, encoded = line.split()
                acks.append((int(index), encoded))
        return acks

    def kill(self) -> None:
        """SIGKILL the child and collect everything it printed before dying."""
        self.proc.kill()
        self.finish(timeout=30)

    def finish(self, timeout: float) -> int:
        """Wait for the child to exit, drain its output, close its pipes; return its status."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self._reader.join(timeout=30)
            for stream in (self.proc.stdin, self.proc.stdout, self._stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):  # a dead child's stdin pipe
                        stream.close()
        return status


@pytest.fixture
def writers(tmp_path: Path) -> Iterator[Callable[..., Writer]]:
    """Start ``ledger_writer.py`` children: ``writers(*args, stdin=False)``; killed at teardown."""
    started: list[Writer] = []

    def start(*args: str, stdin: bool = False) -> Writer:
        writer = Writer(list(args), tmp_path / f"writer-{len(started)}.err", stdin=stdin)
        started.append(writer)
        return writer

    yield start
    for writer in started:
        if writer.proc.returncode is None:
            writer.kill()


@pytest.fixture
def agency_key_file(store_url: str, tmp_path: Path) -> Path:
    """Create the log with a grant of ``note.add`` to a new agency key; return its key file."""
    from seoul_vc.keys import PrivateKey
    from seoul_vc.ledger.entry import signer_did
    from seoul_vc.ledger.log import Ledger

    agency = PrivateKey.generate("ES256")
    ledger = Ledger.open(store_url)
    try:
        ledger.genesis(
            origin="ledger.seoul.example/slow",
            operator=PrivateKey.generate(),
            grants={signer_did(agency.public_key): ["note.add"]},
        )
    finally:
        ledger.close()
    key_file = tmp_path / "agency.jwk"
    agency.save(key_file)
    return key_file
