"""Bounded JSON parsing (I-JSON, RFC 7493) and canonical output (JCS, RFC 8785).

:func:`loads` is the only JSON parser for untrusted input in seoul_vc. It checks the size
before decoding, refuses duplicate member names (RFC 7493 §2.3), ``NaN``/``Infinity`` and
numbers that overflow to infinity, unpaired surrogate escapes (RFC 7493 §2.1), and nesting
deeper than the limit — checked on the raw text before the recursive decoder runs, so a
hostile ``[[[[...`` never reaches Python's recursion limit.

:func:`canonical` serialises with the JSON Canonicalization Scheme (RFC 8785), the byte form
that is hashed or signed wherever two parties must agree on bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeAlias

import rfc8785

from seoul_vc.errors import Code, MalformedInputError

__all__ = ["JSONObject", "JSONValue", "canonical", "depth", "dumps", "loads", "loads_object"]

JSONValue: TypeAlias = (
    "bool | int | float | str | Sequence[JSONValue] | Mapping[str, JSONValue] | None"
)
JSONObject: TypeAlias = "dict[str, JSONValue]"

# A JSON string token: quotes around anything but quote/backslash/control, or escapes.
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_PAIRED_SURROGATES_RE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_BRACKETS_ONLY = str.maketrans({c: None for c in map(chr, range(128)) if c not in "[]{}"})


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number overflows a double")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
)
# Encoders made once: json.dumps with any non-default argument builds a new one per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_SORTED = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True)
# _COMPACT's C encoder, made once too: JSONEncoder.encode makes a new one per call. Without
# the cycle markers a cyclic value ends in RecursionError, which dumps reports as malformed.
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_compact: Callable[[Any], str] = _COMPACT.encode
if _make_c_encoder is not None:  # pragma: no branch - CPython has it
    _chunks = _make_c_encoder(
        None, _COMPACT.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )

    def _compact(value: Any) -> str:
        return "".join(_chunks(value, 0))


def depth(text: str, limit: int) -> int:
    """Bound the nesting depth of ``text``: a result above ``limit`` iff it nests deeper.

    Up to ``limit`` the result is an upper bound of the depth (the count of openers).
    """
    # Openers anywhere (strings included) bound the depth: most inputs stop here, unscanned.
    openers = text.count("[") + text.count("{")
    if openers <= limit:
        return openers
    return _exact_depth(text, limit)


def _exact_depth(text: str, limit: int) -> int:
    brackets = _STRING_RE.sub("", text).translate(_BRACKETS_ONLY)
    # The number of openers bounds the depth; most documents stop here.
    if len(brackets) // 2 <= limit:
        return len(brackets) // 2
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def loads(data: bytes | str, *, max_bytes: int, max_depth: int, what: str = "JSON") -> JSONValue:
    """Parse untrusted JSON within bounds.

    Args:
        data: UTF-8 bytes or text.
        max_bytes: the largest input accepted (UTF-8 bytes).
        max_depth: the deepest nesting of arrays and objects accepted.
        what: a name for the input in error messages.

    Returns:
        The parsed value (dicts, lists, str, int, float, bool, None).

    Raises:
        MalformedInputError: ``too_large``, ``too_deep``, ``duplicate_key`` or ``malformed``
            (bad UTF-8, bad syntax, NaN/Infinity, lone surrogates, trailing data).
    """
    if isinstance(data, str):
        if len(data) > max_bytes:  # each character is at least one UTF-8 byte
            raise MalformedInputError(
                Code.TOO_LARGE, f"{what} exceeds {max_bytes} bytes", limit=max_bytes
            )
        try:
            encoded_size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise MalformedInputError(Code.MALFORMED, f"{what} is not valid Unicode") from exc
        if encoded_size > max_bytes:
            raise MalformedInputError(
                Code.TOO_LARGE, f"{what} exceeds {max_bytes} bytes", limit=max_bytes
            )
        text = data
    else:
        if len(data) > max_bytes:
            raise MalformedInputError(
                Code.TOO_LARGE, f"{what} exceeds {max_bytes} bytes", limit=max_bytes
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInputError(Code.MALFORMED, f"{what} is not UTF-8") from exc
    # depth() inlined: this runs for every token part and disclosure read.
    if text.count("[") + text.count("{") > max_depth and _exact_depth(text, max_depth) > max_depth:
        raise MalformedInputError(
            Code.TOO_DEEP, f"{what} nests deeper than {max_depth}", limit=max_depth
        )
    try:
        # Whitespace is skipped only where there is some ("" in _WS holds: "" is malformed).
        value, end = _DECODER.raw_decode(text, _skip_ws(text, 0) if text[:1] in _WS else 0)
        if end != len(text) and _skip_ws(text, end) != len(text):
            raise MalformedInputError(Code.MALFORMED, f"{what} has trailing data")
    except _DuplicateKeyError as exc:
        raise MalformedInputError(
            Code.DUPLICATE_KEY, f"{what} repeats a member name", member=exc.key[:64]
        ) from None
    except (ValueError, RecursionError) as exc:
        raise MalformedInputError(Code.MALFORMED, f"{what} is not valid JSON") from exc
    if "\\u" in text and _has_lone_surrogate(text, value):
        raise MalformedInputError(Code.MALFORMED, f"{what} contains an unpaired surrogate")
    return value  # type: ignore[no-any-return]


def loads_object(
    data: bytes | str, *, max_bytes: int, max_depth: int, what: str = "JSON"
) -> JSONObject:
    """Like :func:`loads`, but the top-level value must be an object.

    Raises:
        MalformedInputError: as :func:`loads`, and ``malformed`` for a non-object.
    """
    value = loads(data, max_bytes=max_bytes, max_depth=max_depth, what=what)
    if not isinstance(value, dict):
        raise MalformedInputError(Code.MALFORMED, f"{what} is not a JSON object")
    return value


_WS = " \t\n\r"


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


def _has_lone_surrogate(text: str, value: object) -> bool:
    # The regex is a cheap filter (it can be fooled by an escaped backslash before "u");
    # the re-encoding is the exact test, run only when the filter suspects something.
    if _SURROGATE_ESCAPE_RE.search(_PAIRED_SURROGATES_RE.sub("", text)) is None:
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_SAFE_INT: Final = 2**53


def _fast_canonical_ok(value: object) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_SAFE_INT < value < _SAFE_INT  # type: ignore[operator]
    if kind is dict:
        return all(
            type(k) is str and (not k or max(k) < "\ud800") and _fast_canonical_ok(v)
            for k, v in value.items()  # type: ignore[attr-defined]
        )
    if kind is list:
        return all(_fast_canonical_ok(v) for v in value)  # type: ignore[attr-defined]
    return False


def canonical(value: JSONValue) -> bytes:
    """Serialise ``value`` with the JSON Canonicalization Scheme (RFC 8785).

    Raises:
        MalformedInputError: ``malformed`` for values JCS cannot represent (NaN, integers
            beyond IEEE 754 double precision, non-string keys).
    """
    if _fast_canonical_ok(value):
        # For objects of strings, safe integers, booleans and null, JCS is exactly Python's
        # sorted, compact, non-ASCII-preserving output: same escapes (RFC 8785 §3.2.2.2 and
        # json's both use \b \f \n \r \t and lowercase \u00xx), and code-point key
        # order equals UTF-16 order below U+D800 (§3.2.3). ~4x faster than the general path.
        try:
            return _SORTED.encode(value).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedInputError(Code.MALFORMED, "value has no canonical JSON form") from exc
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedInputError(Code.MALFORMED, "value has no canonical JSON form") from exc


def dumps_text(value: JSONValue) -> str:
    """Serialise compactly as text; :func:`dumps` is this, UTF-8 encoded.

    Raises:
        MalformedInputError: ``malformed`` for NaN/Infinity or values JSON cannot hold.
    """
    try:
        return _compact(value)
    except (ValueError, TypeError, RecursionError) as exc:
        raise MalformedInputError(Code.MALFORMED, "value cannot be written as JSON") from exc


def dumps(value: JSONValue) -> bytes:
    """Serialise compactly as UTF-8 (not canonical; for tokens and files we write).

    Raises:
        MalformedInputError: ``malformed`` for NaN/Infinity or values JSON cannot hold.
    """
    try:
        return _compact(value).encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:
        raise MalformedInputError(Code.MALFORMED, "value cannot be written as JSON") from exc
