"""Presenting reuses the parse of an issued credential; each presentation is still its own."""

from __future__ import annotations

import pytest

from seoul_vc.credentials import Issuer, _sd_holder, sd_jwt
from seoul_vc.credentials.schemas import example_subject
from seoul_vc.errors import ConfigurationError, MalformedInputError
from seoul_vc.keys import PrivateKey


@pytest.fixture
def issued() -> tuple[str, PrivateKey]:
    holder = PrivateKey.generate("ES256")
    token = Issuer(PrivateKey.generate()).issue(
        "ResidencyCredential", example_subject("residency"), holder=holder.public_key
    )
    return token, holder


def _names(presentation: str) -> set[str]:
    parts = sd_jwt.split(presentation)
    return {str(sd_jwt.Disclosure.decode(e).name) for e in parts.disclosures}


def test_repeated_presentations_of_one_token_disclose_what_each_asks(
    issued: tuple[str, PrivateKey],
) -> None:
    token, holder = issued
    _sd_holder._held.cache_clear()

    def show(*paths: str, nonce: str) -> str:
        return sd_jwt.present(
            token,
            disclose=[sd_jwt.parse_claim_path(p) for p in paths],
            holder_key=holder,
            aud="https://housing.seoul.example",
            nonce=nonce,
            iat=1767225600,
        )

    first = show("ageOver19", nonce="nonce-0001")
    second = show("name", "birthDate", nonce="nonce-0002")
    third = show("ageOver19", nonce="nonce-0003")
    assert _names(first) == {"ageOver19"}
    assert _names(second) == {"name", "birthDate"}
    assert _names(third) == _names(first)
    assert first != third  # a fresh KB-JWT over another nonce
    assert _sd_holder._held.cache_info().hits == 2


def test_errors_are_not_cached(issued: tuple[str, PrivateKey]) -> None:
    token, holder = issued
    with pytest.raises(MalformedInputError):
        sd_jwt.present(token[:-5] + "!!!!~", disclose=[])
    presented = sd_jwt.present(
        token, disclose=[], holder_key=holder, aud="a", nonce="nonce-0004", iat=1
    )
    with pytest.raises(ConfigurationError, match="not a KB one"):
        sd_jwt.present(presented, disclose=[])
