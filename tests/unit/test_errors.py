"""The error hierarchy: codes, families, exit codes, HTTP statuses, JSON form."""

from __future__ import annotations

import pytest

from seoul_vc.errors import (
    FAMILY_OF,
    Code,
    ConfigurationError,
    InternalError,
    MalformedInputError,
    NotFoundError,
    PolicyError,
    SeoulVCError,
    StateConflictError,
    StorageError,
    UnavailableError,
    VerificationError,
    error_for,
)

# The table of the errors.py module docstring: family class -> (family, exit code, HTTP).
TABLE: dict[type[SeoulVCError], tuple[str, int, int]] = {
    MalformedInputError: ("malformed", 1, 400),
    VerificationError: ("verification", 1, 422),
    PolicyError: ("policy", 1, 403),
    StateConflictError: ("state", 1, 409),
    ConfigurationError: ("configuration", 2, 500),
    NotFoundError: ("not_found", 3, 404),
    StorageError: ("storage", 4, 500),
    UnavailableError: ("unavailable", 4, 503),
    InternalError: ("internal", 5, 500),
}


def test_every_code_has_a_family() -> None:
    """FAMILY_OF maps every Code and nothing else."""
    assert set(FAMILY_OF) == set(Code)


def test_every_family_class_is_a_seoul_vc_error() -> None:
    """Each family in FAMILY_OF is a subclass of SeoulVCError from the table."""
    assert set(FAMILY_OF.values()) <= set(TABLE)
    assert all(issubclass(cls, SeoulVCError) for cls in TABLE)


@pytest.mark.parametrize("cls", list(TABLE), ids=[cls.__name__ for cls in TABLE])
def test_family_exit_code_and_http_status_follow_the_table(cls: type[SeoulVCError]) -> None:
    """family, exit_code and http_status are those of the errors.py docstring table."""
    assert (cls.family, cls.exit_code, cls.http_status) == TABLE[cls]


def test_family_names_are_distinct() -> None:
    """No two classes share a family name."""
    names = [cls.family for cls in TABLE]
    assert len(names) == len(set(names))


def test_codes_are_snake_case_and_equal_their_value() -> None:
    """Each code's value is a lower snake_case string, and the StrEnum equals it."""
    for code in Code:
        assert code.value.replace("_", "").isalpha()
        assert code.value == code.value.lower()
        assert code == code.value


@pytest.mark.parametrize("code", list(Code), ids=[c.value for c in Code])
def test_error_for_builds_the_family_class(code: Code) -> None:
    """error_for(code) is an instance of exactly FAMILY_OF[code], carrying the code."""
    err = error_for(code, "message", field="x")
    assert type(err) is FAMILY_OF[code]
    assert err.code is code


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (Code.TOO_LARGE, MalformedInputError),
        (Code.WEAK_KEY, MalformedInputError),
        (Code.INVALID_SIGNATURE, VerificationError),
        (Code.DID_MISMATCH, VerificationError),
        (Code.ADDRESS_REFUSED, PolicyError),
        (Code.ALREADY_EXISTS, StateConflictError),
        (Code.UNREADABLE_INPUT, ConfigurationError),
        (Code.NOT_FOUND, NotFoundError),
        (Code.STORAGE, StorageError),
        (Code.UNAVAILABLE, UnavailableError),
        (Code.INTERNAL, InternalError),
    ],
)
def test_selected_codes_belong_to_their_documented_family(
    code: Code, cls: type[SeoulVCError]
) -> None:
    """Codes fall in the family their section of the Code enum names."""
    assert FAMILY_OF[code] is cls


def test_to_json_shape() -> None:
    """to_json has code, family, message and details, with the code as plain text."""
    err = error_for(Code.TOO_LARGE, "token exceeds 65536 bytes", limit=65536, field="token")
    assert err.to_json() == {
        "code": "too_large",
        "family": "malformed",
        "message": "token exceeds 65536 bytes",
        "details": {"limit": 65536, "field": "token"},
    }


def test_to_json_details_is_a_copy() -> None:
    """Changing the returned details does not change the error."""
    err = error_for(Code.NOT_FOUND, "no such file")
    err.to_json()["details"]["x"] = 1  # type: ignore[index]
    assert err.details == {}


def test_to_json_code_is_a_plain_string() -> None:
    """The JSON code is a str, not the enum member, so any JSON encoder can write it."""
    assert type(error_for(Code.REVOKED, "revoked").to_json()["code"]) is str


def test_error_str_starts_with_the_code() -> None:
    """str(err) leads with the stable code, so logs can be grepped by it."""
    assert str(error_for(Code.EXPIRED, "past exp")).startswith("expired: ")


def test_errors_are_catchable_as_seoul_vc_error_and_exception() -> None:
    """Every family is caught by except SeoulVCError."""
    with pytest.raises(SeoulVCError):
        raise error_for(Code.CONSENT_EXHAUSTED, "budget spent")


def test_details_are_kept() -> None:
    """Keyword details are stored on the error."""
    assert error_for(Code.BAD_ARGUMENT, "bad", alg="RS256").details == {"alg": "RS256"}
