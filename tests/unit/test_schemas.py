"""Credential subject schemas (2020-12): well-formed, bounded, examples pass, defects fail."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

SCHEMA_DIR = Path(__file__).parents[2] / "schemas"
NAMES = ("residency", "income", "certificate")
DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://schemas.seoul-vc.example/credentials/"

# Fictional, in the resident registration number's shape (YYMMDD-SBBBBBC).
RRN = "960314-2345678"
DID = "did:key:z6Mktq5jYzkocBkR376cw7MANb3RxmB1ye8ovZM8a63KUX3R"
PSEUDONYM = "yVWP531UrqnfX23gbkylI8bzoFfI7RUthTGOZ3IiPKI"
MISSING = object()  # a case value meaning "delete this field"


@cache
def load(name: str) -> dict[str, Any]:
    text = (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validator(name: str, *, assert_format: bool = False) -> Draft202012Validator:
    checker = Draft202012Validator.FORMAT_CHECKER if assert_format else None
    return Draft202012Validator(load(name), format_checker=checker)


def schema_nodes(node: dict[str, Any], pointer: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every subschema with its JSON pointer; `examples`, `enum`, `const` are data."""
    yield pointer, node
    for key in ("properties", "patternProperties", "dependentSchemas", "$defs"):
        for name, sub in node.get(key, {}).items():
            yield from schema_nodes(sub, f"{pointer}/{key}/{name}")
    single = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems")
    for key in (*single, "contains", "propertyNames", "not", "if", "then", "else"):
        if isinstance(node.get(key), dict):
            yield from schema_nodes(node[key], f"{pointer}/{key}")
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for index, sub in enumerate(node.get(key, [])):
            yield from schema_nodes(sub, f"{pointer}/{key}/{index}")


def declared_objects(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield the subschemas that declare an object type (not `if`/`then` conditions)."""
    for pointer, node in schema_nodes(load(name)):
        if node.get("type") == "object":
            yield pointer, node


def offending_fields(error: ValidationError) -> set[tuple[str | int, ...]]:
    """Return the instance paths an error blames, naming the field for required/extra ones."""
    path = tuple(error.absolute_path)
    if error.validator == "required":
        return {(*path, field) for field in error.validator_value if field not in error.instance}
    if error.validator == "additionalProperties":
        declared = error.schema.get("properties", {})
        return {(*path, field) for field in error.instance if field not in declared}
    return {path}


def fullwidth(digits: str) -> str:
    """Return `digits` as fullwidth forms (U+FF10..U+FF19), which Python's re counts as digits."""
    return "".join(chr(0xFF10 + int(digit)) for digit in digits)


def mutated(subject: dict[str, Any], field: str, value: object) -> dict[str, Any]:
    """Return a copy of `subject` with the dotted `field` set to `value`, or deleted."""
    result = copy.deepcopy(subject)
    *parents, leaf = field.split(".")
    node = result
    for part in parents:
        node = node[part]
    if value is MISSING:
        del node[leaf]
    else:
        node[leaf] = value
    return result


def case(name: str, field: str, value: object, keyword: str, label: str) -> Any:
    """Return a defect: `field` of the schema's first example set to `value` fails `keyword`."""
    return pytest.param(name, field, value, keyword, id=f"{name}-{label}")


def edge(name: str, field: str, value: object, label: str) -> Any:
    """Return a boundary value: `field` of the schema's first example set to `value` is valid."""
    return pytest.param(name, field, value, id=f"{name}-{label}")


INVALID = [
    # ResidencyCredential
    case("residency", "residentRegistrationNumber", RRN, "additionalProperties", "rrn"),
    case("residency", "name.residentRegistrationNumber", RRN, "additionalProperties", "name-rrn"),
    case("residency", "address.street", "와우산로 94", "additionalProperties", "street"),
    case("residency", "name.latin.middle", "J", "additionalProperties", "latin-extra"),
    case("residency", "id", "kim.seoyeon@example.com", "pattern", "id-not-did"),
    case("residency", "id", "did:KEY:z6Mk", "pattern", "id-uppercase-method"),
    case("residency", "id", f"{DID}#key-1", "pattern", "id-did-url"),
    case("residency", "id", f"{DID}\n", "not", "id-trailing-newline"),
    case("residency", "id", "did:web:" + "a" * 2041, "maxLength", "id-too-long"),
    case("residency", "id", 42, "type", "id-number"),
    case("residency", "name", MISSING, "required", "no-name"),
    case("residency", "name.given", MISSING, "required", "no-given-name"),
    case("residency", "name.family", "", "minLength", "empty-family"),
    case("residency", "name.given", "가" * 65, "maxLength", "long-given"),
    case("residency", "name.given", "서\n연", "not", "given-newline"),
    case("residency", "name.latin.family", "김", "pattern", "latin-hangul"),
    case("residency", "name.latin.given", "Seo-yeon\n", "not", "latin-trailing-newline"),
    case("residency", "name.latin.given", "S" * 65, "maxLength", "latin-long"),
    case("residency", "birthDate", MISSING, "required", "no-birth-date"),
    case("residency", "birthDate", "1996-3-14", "pattern", "date-short-month"),
    case("residency", "birthDate", "1996-13-14", "pattern", "date-month-13"),
    case("residency", "birthDate", "14/03/1996", "pattern", "date-dmy"),
    case("residency", "birthDate", f"{fullwidth('1996')}-03-14", "pattern", "date-fullwidth"),
    case("residency", "birthDate", "1996-03-14T00:00:00+09:00", "maxLength", "date-time"),
    case("residency", "birthDate", "1996-03-14\n", "maxLength", "date-newline"),
    case("residency", "residentSince", "2021-00-01", "pattern", "date-month-0"),
    case("residency", "ageOver14", MISSING, "required", "no-age-14"),
    case("residency", "ageOver19", MISSING, "required", "no-age-19"),
    case("residency", "ageOver14", "yes", "type", "age-string"),
    case("residency", "ageOver19", 1, "type", "age-number"),
    case("residency", "ageOver14", False, "const", "over-19-not-over-14"),
    case("residency", "address", "서울특별시 마포구 서교동", "type", "address-string"),
    case("residency", "address.postalCode", MISSING, "required", "no-postal-code"),
    case("residency", "address.postalCode", "0403", "minLength", "postal-4-digits"),
    case("residency", "address.postalCode", "040391", "maxLength", "postal-6-digits"),
    case("residency", "address.postalCode", "04O39", "pattern", "postal-letter"),
    case("residency", "address.postalCode", fullwidth("04039"), "pattern", "postal-fullwidth"),
    case("residency", "address.postalCode", 4039, "type", "postal-number"),
    case("residency", "address.city", "", "minLength", "empty-city"),
    case("residency", "address.district", "구" * 65, "maxLength", "long-district"),
    case("residency", "address.dong", "서교동\t", "not", "dong-tab"),
    case("residency", "personPseudonym", MISSING, "required", "no-pseudonym"),
    case("residency", "personPseudonym", RRN, "minLength", "pseudonym-is-rrn"),
    case("residency", "personPseudonym", PSEUDONYM[:42], "minLength", "pseudonym-short"),
    case("residency", "personPseudonym", f"{PSEUDONYM}=", "maxLength", "pseudonym-padded"),
    case("residency", "personPseudonym", f"+{PSEUDONYM[1:]}", "pattern", "pseudonym-base64"),
    case(
        "residency", "personPseudonym", f"{PSEUDONYM[:-1]}J", "pattern", "pseudonym-trailing-bits"
    ),
    # IncomeCredential
    case("income", "residentRegistrationNumber", RRN, "additionalProperties", "rrn"),
    case("income", "monthlyIncomeKRW", 3_200_000, "additionalProperties", "amount"),
    case("income", "period.days", 366, "additionalProperties", "period-extra"),
    case("income", "id", "urn:uuid:4f1c2b7e-0d7a-4c59-9a53-2c1e7b9d6a10", "pattern", "id-urn"),
    case("income", "eligibilityType", MISSING, "required", "no-eligibility"),
    case("income", "eligibilityType", "직장가입자", "enum", "eligibility-korean"),
    case("income", "eligibilityType", "Employee", "enum", "eligibility-case"),
    case("income", "eligibilityType", "selfEmployed", "enum", "eligibility-unknown"),
    case("income", "incomeBracketPercent", MISSING, "required", "no-bracket"),
    case("income", "incomeBracketPercent", -1, "minimum", "bracket-negative"),
    case("income", "incomeBracketPercent", 1001, "maximum", "bracket-over-1000"),
    case("income", "incomeBracketPercent", 85.5, "type", "bracket-fraction"),
    case("income", "incomeBracketPercent", "85", "type", "bracket-string"),
    case("income", "incomeBracketPercent", True, "type", "bracket-boolean"),
    case("income", "period", MISSING, "required", "no-period"),
    case("income", "period.to", MISSING, "required", "no-period-end"),
    case("income", "period.from", "2024/01/01", "pattern", "period-slashes"),
    case("income", "period.to", "2024-12-32", "pattern", "period-day-32"),
    case("income", "householdSize", MISSING, "required", "no-household"),
    case("income", "householdSize", -1, "minimum", "household-negative"),
    case("income", "householdSize", 0, "minimum", "household-zero"),
    case("income", "householdSize", 21, "maximum", "household-21"),
    case("income", "householdSize", 2.5, "type", "household-fraction"),
    # CertificateCredential
    case("certificate", "residentRegistrationNumber", RRN, "additionalProperties", "rrn"),
    case("certificate", "holderBirthDate", "1996-03-14", "additionalProperties", "extra"),
    case(
        "certificate",
        "holderName.residentRegistrationNumber",
        RRN,
        "additionalProperties",
        "name-rrn",
    ),
    case("certificate", "id", "did:key:", "pattern", "id-empty-method-id"),
    case("certificate", "kind", MISSING, "required", "no-kind"),
    case("certificate", "kind", "diploma", "enum", "kind-unknown"),
    case("certificate", "kind", "Graduation", "enum", "kind-case"),
    case("certificate", "kind", "course_completion", "enum", "kind-snake-case"),
    case("certificate", "title", MISSING, "required", "no-title"),
    case("certificate", "title", "", "minLength", "empty-title"),
    case("certificate", "title", "가" * 201, "maxLength", "long-title"),
    case("certificate", "title", "수료증\n", "not", "title-newline"),
    case("certificate", "issuingOrganisation", MISSING, "required", "no-organisation"),
    case("certificate", "issuingOrganisation", "a" * 201, "maxLength", "long-organisation"),
    case("certificate", "certificateNumber", MISSING, "required", "no-number"),
    case("certificate", "certificateNumber", "", "minLength", "empty-number"),
    case("certificate", "certificateNumber", "A" * 65, "maxLength", "long-number"),
    case("certificate", "certificateNumber", "SCTE 2024", "pattern", "number-space"),
    case("certificate", "certificateNumber", "SCTE_2024", "pattern", "number-underscore"),
    case("certificate", "certificateNumber", "제-2024-1", "pattern", "number-hangul"),
    case("certificate", "certificateNumber", "SCTE-2024-00731\n", "not", "number-newline"),
    case("certificate", "issuedOn", MISSING, "required", "no-issued-on"),
    case("certificate", "issuedOn", "2024-11-29T09:00:00Z", "maxLength", "issued-date-time"),
    case("certificate", "expiresOn", "2028/05/16", "pattern", "expires-slashes"),
    case("certificate", "holderName.given", MISSING, "required", "holder-no-given"),
    case("certificate", "holderName.family", "", "minLength", "holder-empty-family"),
]

BOUNDARY = [
    edge("residency", "id", "did:web:" + "a" * 2040, "id-2048-chars"),
    edge("residency", "id", "did:web:example.com%3A8443:users:alice", "id-web-path"),
    edge("residency", "name.family", "가" * 64, "family-64-chars"),
    edge("residency", "name.latin.given", "Mary Ann O'Neil-Kim", "latin-joined"),
    edge("residency", "address.postalCode", "01000", "postal-leading-zero"),
    edge("residency", "personPseudonym", "A" * 43, "pseudonym-all-zero-bits"),
    edge("income", "incomeBracketPercent", 0, "bracket-0"),
    edge("income", "incomeBracketPercent", 1000, "bracket-1000"),
    edge("income", "householdSize", 1, "household-1"),
    edge("income", "householdSize", 20, "household-20"),
    edge("certificate", "title", "가" * 200, "title-200-chars"),
    edge("certificate", "issuingOrganisation", "a" * 200, "organisation-200-chars"),
    edge("certificate", "certificateNumber", "A" * 64, "number-64-chars"),
    edge("certificate", "certificateNumber", "7", "number-1-char"),
]

EXAMPLES = [
    pytest.param(name, index, id=f"{name}-{index}")
    for name in NAMES
    for index in range(len(load(name)["examples"]))
]

# Property names that would hold a resident registration number (주민등록번호).
RRN_NAME = re.compile(r"rrn|resident.?registration|registration.?number|jumin|주민", re.IGNORECASE)


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    """The schema passes the draft 2020-12 metaschema."""
    Draft202012Validator.check_schema(load(name))


@pytest.mark.parametrize("name", NAMES)
def test_schema_declares_draft_2020_12(name: str) -> None:
    """The schema names the draft 2020-12 dialect in `$schema`."""
    assert load(name)["$schema"] == DIALECT


@pytest.mark.parametrize("name", NAMES)
def test_schema_id_is_versioned_under_the_shared_host(name: str) -> None:
    """The `$id` is the type's v1 URL on the shared schema host."""
    assert load(name)["$id"] == f"{ID_BASE}{name}/v1.schema.json"


@pytest.mark.parametrize("name", NAMES)
def test_schema_has_a_title_and_description(name: str) -> None:
    """The schema has a non-empty title and description."""
    assert load(name)["title"]
    assert load(name)["description"]


@pytest.mark.parametrize("name", NAMES)
def test_schema_has_at_least_two_examples(name: str) -> None:
    """The top-level `examples` holds at least two subjects."""
    assert len(load(name)["examples"]) >= 2


@pytest.mark.parametrize(("name", "index"), EXAMPLES)
def test_example_validates(name: str, index: int) -> None:
    """Every example subject validates, with dates checked against the calendar too."""
    validator(name, assert_format=True).validate(load(name)["examples"][index])


@pytest.mark.parametrize("name", NAMES)
def test_every_object_forbids_additional_properties(name: str) -> None:
    """Every object schema sets `additionalProperties: false`."""
    open_objects = [
        p for p, node in declared_objects(name) if node.get("additionalProperties") is not False
    ]
    assert open_objects == []


@pytest.mark.parametrize("name", NAMES)
def test_every_object_lists_its_required_properties(name: str) -> None:
    """Every object schema has a non-empty `required` list of declared properties."""
    for pointer, node in declared_objects(name):
        assert node.get("required"), pointer
        assert set(node["required"]) <= set(node["properties"]), pointer


@pytest.mark.parametrize("name", NAMES)
def test_every_property_has_a_description(name: str) -> None:
    """Every declared property carries a non-empty description."""
    undescribed = [
        f"{pointer}/properties/{prop}"
        for pointer, node in declared_objects(name)
        for prop, sub in node["properties"].items()
        if not sub.get("description")
    ]
    assert undescribed == []


@pytest.mark.parametrize("name", NAMES)
def test_every_string_has_max_length(name: str) -> None:
    """Every string schema is bounded by `maxLength`."""
    unbounded = [
        p
        for p, node in schema_nodes(load(name))
        if node.get("type") == "string" and "maxLength" not in node
    ]
    assert unbounded == []


@pytest.mark.parametrize("name", NAMES)
def test_every_array_has_max_items(name: str) -> None:
    """Every array schema is bounded by `maxItems` (a guard for arrays added later)."""
    unbounded = [
        p
        for p, node in schema_nodes(load(name))
        if node.get("type") == "array" and "maxItems" not in node
    ]
    assert unbounded == []


@pytest.mark.parametrize("name", NAMES)
def test_no_property_can_hold_a_resident_registration_number(name: str) -> None:
    """No property is named for a resident registration number (주민등록번호)."""
    names = [prop for _, node in schema_nodes(load(name)) for prop in node.get("properties", {})]
    assert [prop for prop in names if RRN_NAME.search(prop)] == []


@pytest.mark.parametrize("definition", ["did", "fullDate"])
def test_common_definition_is_identical_in_every_schema(definition: str) -> None:
    """The DID and date definitions are the same in all three schemas."""
    first, *others = (load(name)["$defs"][definition] for name in NAMES)
    assert all(other == first for other in others)


@pytest.mark.parametrize("definition", ["personName", "latinName", "namePart", "latinNamePart"])
def test_certificate_holder_name_matches_residency_name(definition: str) -> None:
    """The certificate's holderName has the same shape as the residency name."""
    assert load("certificate")["$defs"][definition] == load("residency")["$defs"][definition]


@pytest.mark.parametrize(("name", "field", "value", "keyword"), INVALID)
def test_invalid_subject_is_refused_at_the_field(
    name: str, field: str, value: object, keyword: str
) -> None:
    """A subject with one crafted defect fails, every error naming that field."""
    subject = mutated(load(name)["examples"][0], field, value)
    errors = list(validator(name).iter_errors(subject))
    blamed = {path for error in errors for path in offending_fields(error)}
    assert blamed == {tuple(field.split("."))}
    assert keyword in {error.validator for error in errors}


@pytest.mark.parametrize(("name", "field", "value"), BOUNDARY)
def test_boundary_value_is_accepted(name: str, field: str, value: object) -> None:
    """A value at the edge of a bound still validates."""
    validator(name).validate(mutated(load(name)["examples"][0], field, value))


def test_impossible_calendar_date_is_refused_when_format_is_asserted() -> None:
    """With format assertion on, 2023-02-30 fails at its field although it fits the pattern."""
    subject = mutated(load("residency")["examples"][0], "residentSince", "2023-02-30")
    errors = list(validator("residency", assert_format=True).iter_errors(subject))
    assert [(tuple(e.absolute_path), e.validator) for e in errors] == [
        (("residentSince",), "format")
    ]
