"""SD-JWT issuance internals: salts, decoys and disclosure bytes (RFC 9901 §4.2, §9.3)."""

from __future__ import annotations

import enum
import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seoul_vc import _json
from seoul_vc._encoding import b64url_decode, b64url_encode
from seoul_vc.credentials import _sd_format, sd_jwt
from seoul_vc.errors import MalformedInputError
from seoul_vc.keys import PrivateKey


def test_salts_are_canonical_128_bit_base64url_and_never_repeat() -> None:
    draws = [_sd_format.RANDOM.salt() for _ in range(5000)]  # many blocks of the pool
    assert len(set(draws)) == len(draws)
    for salt in draws:
        raw = b64url_decode(salt)  # strict: canonical trailing bits, no padding
        assert len(raw) == _sd_format.SALT_BYTES
        assert b64url_encode(raw) == salt


def test_salt_bytes_are_not_the_block_padding() -> None:
    # The two zero bytes per salt in a block stay out: every byte value shows up at the
    # last position of a salt, as it would for uniformly random bytes.
    last = Counter(b64url_decode(_sd_format.RANDOM.salt())[-1] for _ in range(20_000))
    assert len(last) == 256


def test_decoy_counts_are_one_to_three_each_possible() -> None:
    counts = Counter(_sd_format.RANDOM.count() for _ in range(3000))
    assert set(counts) == {1, 2, 3}
    assert min(counts.values()) > 800  # uniform: ~1000 each


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_hands_out_its_parents_salts() -> None:
    _sd_format.RANDOM.salt()  # the pool now holds salts the parent will hand out next
    parents_next = list(_sd_format.RANDOM._salts)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.write(write, _sd_format.RANDOM.salt().encode())
        os._exit(0)
    os.close(write)
    childs = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(childs) == 22
    assert childs not in parents_next


class _Level(enum.IntEnum):
    LOW = 1


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(name=st.none() | st.text(), value=_JSON_VALUES)
def test_disclosures_are_the_compact_json_array(name: str | None, value: Any) -> None:
    try:
        expected = _json.dumps(["s", value] if name is None else ["s", name, value])
    except MalformedInputError:
        return
    if name is not None and name in ("_sd", "..."):
        return
    try:
        made = sd_jwt.Disclosure.create(name, value, salt="s")
    except MalformedInputError:  # lone surrogates: not writable as UTF-8 either way
        return
    assert b64url_decode(made.encoded) == expected
    assert sd_jwt.Disclosure.decode(made.encoded) == made


def test_int_subclasses_are_written_as_json_writes_them() -> None:
    for value in (True, False, None, 0, -7, 10**30, _Level.LOW, 1.5):
        made = sd_jwt.Disclosure.create("v", value, salt="s")
        assert b64url_decode(made.encoded) == _json.dumps(["s", "v", value])


def test_issuance_output_is_fresh_each_time() -> None:
    key = PrivateKey.generate()
    claims = {"iss": "did:example:issuer", "a": 1, "b": {"c": True}}
    first = sd_jwt.issue(claims, key, disclosable=[("a",), ("b", "c")], typ="dc+sd-jwt")
    second = sd_jwt.issue(claims, key, disclosable=[("a",), ("b", "c")], typ="dc+sd-jwt")
    assert sd_jwt.split(first).disclosures != sd_jwt.split(second).disclosures
    assert claims == {"iss": "did:example:issuer", "a": 1, "b": {"c": True}}  # untouched
