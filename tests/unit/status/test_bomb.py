"""Decompression bombs are refused with ``too_large`` in bounded memory.

DEFLATE cannot do better than about 1032:1 (a run costs two bits per 258 bytes), so a
gigabyte of zeros is a megabyte of GZIP/ZLIB. Two cases per container: the decoders with a
list that fits ``Limits.max_status_list_bytes`` (1 MiB) encoded and inflates to 700 MiB, and
the shared inflater with a 1 GiB bomb. Each must be stopped by the inflation bound itself
(``details["limit"]`` is ``Limits.max_status_list_decompressed_bytes``), not by a size check
before it. Each run happens in a fresh Python process that reports its tracemalloc peak and
its peak resident set growth, so the measurement sees nothing of the test runner's memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from seoul_vc.limits import Limits

LIMIT_BYTES = 50 * 1024 * 1024

_PROGRAM = textwrap.dedent(
    """
    import gzip, json, resource, sys, tracemalloc, zlib

    from seoul_vc._encoding import b64url_encode
    from seoul_vc.errors import SeoulVCError
    from seoul_vc.limits import Limits
    from seoul_vc.status._inflate import inflate
    from seoul_vc.status.bitstring import decode_bitstring
    from seoul_vc.status.token_list import decode_status_list

    container, inflated_mib, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    def bomb(wbits):
        # Streamed, so building the bomb needs no gigabyte either.
        packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
        zeros = bytes(1 << 20)
        parts = [packer.compress(zeros) for _ in range(inflated_mib)]
        parts.append(packer.flush())
        return b"".join(parts)

    wbits = 16 + 15 if container == "gzip" else 15
    compressed = bomb(wbits)
    encoded = b64url_encode(compressed)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        if path == "inflate":
            limit = Limits().max_status_list_decompressed_bytes
            inflate(compressed, container=container, max_bytes=limit, what="bomb")
        elif container == "gzip":
            decode_bitstring("u" + encoded)
        else:
            decode_status_list({"bits": 1, "lst": encoded})
        code, limit = None, None
    except SeoulVCError as exc:
        code, limit = str(exc.code), exc.details.get("limit")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024
    print(json.dumps({"code": code, "limit": limit, "peak": peak, "rss_growth": grown,
                      "encoded": len(encoded)}))
    """
)


def _run(container: str, inflated_mib: int, path: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, container, str(inflated_mib), path],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("container", "inflated_mib", "path"),
    [
        ("gzip", 700, "decoder"),
        ("zlib", 700, "decoder"),
        ("gzip", 1024, "inflate"),
        ("zlib", 1024, "inflate"),
    ],
)
def test_bomb_is_refused_too_large_by_the_inflation_bound_in_under_50_mb(
    container: str, inflated_mib: int, path: str
) -> None:
    """Hundreds of KB that inflate to 0.7-1 GiB: too_large at 16 MiB, memory under 50 MB."""
    result = _run(container, inflated_mib, path)
    assert result["code"] == "too_large"
    assert result["limit"] == Limits().max_status_list_decompressed_bytes
    encoded = result["encoded"]
    assert isinstance(encoded, int)
    assert encoded < 1_450_000
    if path == "decoder":
        assert encoded <= Limits().max_status_list_bytes  # so no earlier size check fired
    assert isinstance(result["peak"], int)
    assert result["peak"] < LIMIT_BYTES
    assert isinstance(result["rss_growth"], int)
    assert result["rss_growth"] < LIMIT_BYTES
