"""Poll-scoped nullifiers: stable per person and poll, unlinkable across polls and secrets."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from seoul_vc import Code, SeoulVCError
from seoul_vc.voting import derive_nullifier, registration_audience

SECRET = bytes(range(32))
PSEUDONYM = "yVWP531UrqnfX23gbkylI8bzoFfI7RUthTGOZ3IiPKI"


def test_nullifier_is_the_documented_hmac() -> None:
    """HMAC-SHA256 over the domain, then length-framed poll id and pseudonym (RFC 2104)."""
    message = (
        b"seoul-vc/nullifier/v1\x00"
        + (4).to_bytes(4, "big")
        + b"park"
        + (43).to_bytes(4, "big")
        + PSEUDONYM.encode()
    )
    expected = hmac.new(SECRET, message, hashlib.sha256).hexdigest()
    assert derive_nullifier(SECRET, "park", PSEUDONYM) == expected


def test_same_person_same_poll_same_nullifier() -> None:
    """Derivation is deterministic."""
    assert derive_nullifier(SECRET, "park", PSEUDONYM) == derive_nullifier(
        SECRET, "park", PSEUDONYM
    )


def test_nullifiers_differ_across_polls_people_and_secrets() -> None:
    """Another poll, another person or another registrar secret: another nullifier."""
    base = derive_nullifier(SECRET, "park", PSEUDONYM)
    assert base != derive_nullifier(SECRET, "bus", PSEUDONYM)
    assert base != derive_nullifier(SECRET, "park", "A" * 43)
    assert base != derive_nullifier(bytes(32), "park", PSEUDONYM)


def test_framing_keeps_poll_and_pseudonym_apart() -> None:
    """Moving a character from the poll id to the pseudonym changes the nullifier."""
    assert derive_nullifier(SECRET, "ab", "c") != derive_nullifier(SECRET, "a", "bc")


def test_short_secret_is_refused() -> None:
    """A registrar secret under 32 bytes: bad_argument."""
    with pytest.raises(SeoulVCError) as excinfo:
        derive_nullifier(bytes(31), "park", PSEUDONYM)
    assert excinfo.value.code is Code.BAD_ARGUMENT


def test_audience_names_registrar_poll_and_voter() -> None:
    """The registration audience is one space-separated string of the three."""
    assert registration_audience("did:key:zR", "park", "did:key:zV") == (
        "seoul-vc/vote/v1 did:key:zR park did:key:zV"
    )
