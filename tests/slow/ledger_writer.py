"""A child process for the crash and concurrency tests: appends entries, prints each receipt.

Run as a script (the tests start it with ``subprocess``)::

    python ledger_writer.py crash URL KEY_FILE WRITER        # append until killed
    python ledger_writer.py burst URL KEY_FILE WRITER COUNT  # wait for "go", append COUNT

Entries are ``note.add`` records ``{"writer": W, "seq": n}`` signed by the agency key in
``KEY_FILE`` (a private JWK), one ``Ledger.append`` per entry. After each append returns —
that is, after its commit — the child prints one line and flushes it::

    ack <index> <base64 of the entry's canonical bytes>

so every printed index is an acknowledged append. ``burst`` prints ``ready`` once the ledger
is open and then waits for a line on stdin, so all writers start together.
"""

from __future__ import annotations

import base64
import sys
import time
from typing import ClassVar

from seoul_vc.errors import Code, MalformedInputError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.app import StateReader, StateWrites
from seoul_vc.ledger.apps import default_apps
from seoul_vc.ledger.entry import Entry, sign_entry
from seoul_vc.ledger.log import Ledger

NOTE = "note.add"


class NoteApp:
    """``note.add`` ``{writer, seq}``; its state counts the notes, so it must move with them."""

    name = "note"
    record_types: ClassVar[frozenset[str]] = frozenset({NOTE})
    open_record_types: ClassVar[frozenset[str]] = frozenset()

    def validate(self, entry: Entry) -> None:
        body = entry.body
        if set(body) != {"writer", "seq"} or not all(
            isinstance(body[k], int) for k in ("writer", "seq")
        ):
            raise MalformedInputError(Code.MALFORMED, "note.add is {writer: int, seq: int}")

    def apply(self, state: StateReader, entry: Entry, index: int) -> StateWrites:
        count = state.get(self.name, "count") or 0
        assert isinstance(count, int)
        return {"count": count + 1}


def _append(ledger: Ledger, key: PrivateKey, writer: int, seq: int) -> None:
    entry = sign_entry(NOTE, {"writer": writer, "seq": seq}, key, time=int(time.time()))
    receipt = ledger.append(entry)
    encoded = base64.b64encode(entry.to_bytes()).decode()
    # One write of a line shorter than PIPE_BUF: the parent never sees half a line.
    sys.stdout.write(f"ack {receipt.index} {encoded}\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    mode, url, key_file, writer = argv[0], argv[1], argv[2], int(argv[3])
    key = PrivateKey.load(key_file)
    ledger = Ledger.open(url, apps=[*default_apps(), NoteApp()])
    try:
        if mode == "crash":
            seq = 0
            while True:
                _append(ledger, key, writer, seq)
                seq += 1
        count = int(argv[4])
        ledger.size  # noqa: B018 - connect and read once before the start signal
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()
        for seq in range(count):
            _append(ledger, key, writer, seq)
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
