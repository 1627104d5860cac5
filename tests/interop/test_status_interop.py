"""Status lists against independent implementations, both directions, on Node 20.

* W3C Bitstring Status List: Digital Bazaar's ``@digitalbazaar/vc-bitstring-status-list``
  2.0.1 (with ``@digitalbazaar/bitstring``) decodes the lists our registry publishes to the
  same set bits, and we decode the lists it encodes;
* IETF Token Status List: ``@sd-jwt/jwt-status-list`` 0.19.0 (OpenWallet Foundation SD-JWT
  JS) decodes our Status List Tokens and lists at every width to the same statuses, we
  decode its lists, and both read the draft's test vectors alike.

The packages are pinned in ``tests/interop/node/package.json`` and ``package-lock.json`` and
are installed for tests only (``npm ci``, run here on first use if ``node_modules`` is
missing). The tests skip, saying why, only if ``node``/``npm`` are absent or the install
fails (no registry access).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from seoul_vc._encoding import b64url_decode
from seoul_vc.clock import FixedClock
from seoul_vc.credentials import Issuer
from seoul_vc.keys import PrivateKey
from seoul_vc.status.bitstring import bit_at, decode_bitstring, encode_bitstring
from seoul_vc.status.registry import StatusRegistry
from seoul_vc.status.token_list import (
    decode_status_list,
    encode_status_list,
    set_status,
    status_at,
)

NODE_DIR = Path(__file__).parent / "node"
VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors/token-status-list/vectors.json").read_text()
)
PACKAGES = ("@digitalbazaar/vc-bitstring-status-list", "@sd-jwt/jwt-status-list")


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the pinned packages installed (npm ci on first use)."""
    binary = shutil.which("node")
    if binary is None:
        pytest.skip("interop tests need Node.js (node not on PATH)")
    if not all((NODE_DIR / "node_modules" / p / "package.json").exists() for p in PACKAGES):
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("interop tests need npm to install the pinned packages")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"npm ci failed (no registry access?): {done.stderr.strip()[-200:]}")
    return binary


def _call(node: str, script: str, request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [node, script],
        cwd=NODE_DIR,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _random_indexes(size: int, count: int) -> list[int]:
    return sorted({secrets.randbelow(size) for _ in range(count)} | {0, 7, 8, size - 1})


# -- W3C Bitstring Status List ---------------------------------------------------------------------


def test_digital_bazaar_decodes_our_bitstring_to_the_same_bits(node: str) -> None:
    """Ours -> theirs: a 131,072-bit list with random set bits (and both ends)."""
    size = 131072
    chosen = _random_indexes(size, 500)
    bits = bytearray(size // 8)
    for i in chosen:
        bits[i >> 3] |= 0x80 >> (i & 7)
    result = _call(
        node, "bitstring.mjs", {"op": "decode", "encodedList": encode_bitstring(bytes(bits))}
    )
    assert result == {"length": size, "set": chosen}


def test_we_decode_digital_bazaars_bitstring_to_the_same_bits(node: str) -> None:
    """Theirs -> ours: their encodedList, our decoder and bit order."""
    size = 131072 * 2
    chosen = _random_indexes(size, 500)
    encoded = _call(node, "bitstring.mjs", {"op": "encode", "length": size, "set": chosen})
    decoded = decode_bitstring(encoded["encodedList"])
    assert len(decoded) * 8 == size
    assert [i for i in range(size) if decoded[i >> 3] and bit_at(decoded, i)] == chosen


def test_digital_bazaar_reads_our_published_status_list_credentials(
    node: str, tmp_path: Path, clock: FixedClock
) -> None:
    """The registry's signed revocation and suspension lists decode to the same indexes."""
    registry = StatusRegistry(
        f"sqlite:{tmp_path / 's.db'}",
        issuer=Issuer(PrivateKey.generate(), clock=clock),
        base_url="https://status.seoul.example/lists",
    )
    slots = registry.allocate_many("vc+jwt", 300)
    revoked, suspended = slots[:40], slots[40:60]
    for slot in revoked:
        registry.revoke(slot)
    for slot in suspended:
        registry.suspend(slot)
    published = {p.uri: p for p in registry.publish()}
    registry.close()
    for expected, uri in ((revoked, slots[0].uris[0]), (suspended, slots[0].uris[1])):
        payload = json.loads(b64url_decode(published[uri].token.split(".")[1]))
        encoded = payload["credentialSubject"]["encodedList"]
        result = _call(node, "bitstring.mjs", {"op": "decode", "encodedList": encoded})
        assert result["set"] == sorted(s.index for s in expected)


# -- IETF Token Status List ------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_both_read_the_drafts_vectors_alike(node: str, vector: dict[str, Any]) -> None:
    """The draft's vectors: their decoder and ours agree on every non-zero status."""
    theirs = _call(
        node, "tokenlist.mjs", {"op": "decode", "lst": vector["lst"], "bits": vector["bits"]}
    )
    ours = decode_status_list({"bits": vector["bits"], "lst": vector["lst"]})
    assert theirs["size"] == ours.size == vector["size"]
    ours_nonzero = {
        str(i): status_at(ours.data, ours.bits, i)
        for i in range(ours.size)
        if status_at(ours.data, ours.bits, i)
    }
    assert theirs["nonzero"] == ours_nonzero


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_they_decode_our_lists_at_every_width(node: str, bits: int) -> None:
    """Ours -> theirs: random statuses at random indexes of a 131,072-entry list."""
    size = 131072
    values = {i: 1 + secrets.randbelow((1 << bits) - 1) for i in _random_indexes(size, 300)}
    data = bytearray(size * bits // 8)
    for i, v in values.items():
        set_status(data, bits, i, v)
    lst = encode_status_list(bytes(data), bits)["lst"]
    theirs = _call(node, "tokenlist.mjs", {"op": "decode", "lst": lst, "bits": bits})
    assert theirs["nonzero"] == {str(i): v for i, v in values.items()}


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_we_decode_their_lists_at_every_width(node: str, bits: int) -> None:
    """Theirs -> ours: their compressed lists read back with our decoder."""
    size = 4096
    values = {i: 1 + secrets.randbelow((1 << bits) - 1) for i in _random_indexes(size, 200)}
    lst = _call(
        node,
        "tokenlist.mjs",
        {
            "op": "encode",
            "bits": bits,
            "size": size,
            "values": {str(i): v for i, v in values.items()},
        },
    )["lst"]
    ours = decode_status_list({"bits": bits, "lst": lst})
    assert {i: status_at(ours.data, bits, i) for i in values} == values
    assert sum(1 for i in range(size) if status_at(ours.data, bits, i)) == len(values)


def test_they_read_our_status_list_token(node: str, tmp_path: Path, clock: FixedClock) -> None:
    """Our signed statuslist+jwt: their JWT reader finds the same revoked and suspended."""
    registry = StatusRegistry(
        f"sqlite:{tmp_path / 's.db'}",
        issuer=Issuer(PrivateKey.generate(), clock=clock),
        base_url="https://status.seoul.example/lists",
    )
    slots = registry.allocate_many("dc+sd-jwt", 100)
    for slot in slots[:10]:
        registry.revoke(slot)
    for slot in slots[10:15]:
        registry.suspend(slot)
    (token,) = registry.publish()
    registry.close()
    theirs = _call(node, "tokenlist.mjs", {"op": "jwt", "jwt": token.token})
    expected = {str(s.index): 1 for s in slots[:10]} | {str(s.index): 2 for s in slots[10:15]}
    assert theirs["bits"] == 2
    assert theirs["nonzero"] == expected
