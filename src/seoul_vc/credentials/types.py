"""The credential types Seoul issues: residency, income and certificates.

Each :class:`CredentialType` ties a VC DM 2.0 ``type`` name to its subject schema (in
``schemas/``), its SD-JWT VC ``vct`` and type metadata (draft-ietf-oauth-sd-jwt-vc §6), and
the claims that are selectively disclosable by default. Issuers may override the defaults
per issuance. :meth:`CredentialType.prepare_subject` derives and cross-checks what the schema
alone cannot express (age flags from the birth date, date ranges in order).

Example:
    >>> from seoul_vc.credentials.types import credential_type
    >>> t = credential_type("ResidencyCredential")
    >>> t.vct
    'https://schemas.seoul-vc.example/credentials/residency/v1'
    >>> ("address", "district") in t.disclosable
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from seoul_vc._json import JSONObject, JSONValue
from seoul_vc.credentials.schemas import schema_id, validate_subject
from seoul_vc.credentials.sd_jwt import ClaimPath
from seoul_vc.errors import Code, ConfigurationError, MalformedInputError

__all__ = ["CREDENTIAL_TYPES", "CredentialType", "credential_type", "find_by_vct"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialType:
    """A credential type: names, schema, ``vct`` and default selective disclosure.

    Attributes:
        name: the VC DM 2.0 ``type`` (``ResidencyCredential``).
        schema: the subject schema's name in ``schemas/``.
        vct: the SD-JWT VC type identifier (a URL, versioned like the schema).
        title: English title; ``title_ko`` the Korean one.
        disclosable: subject claim paths made selectively disclosable by default.
    """

    name: str
    schema: str
    vct: str
    title: str
    title_ko: str
    description: str
    disclosable: tuple[ClaimPath, ...]

    @property
    def schema_id(self) -> str:
        """The schema's ``$id``, referenced from ``credentialSchema``."""
        return schema_id(self.schema)

    def validate(self, subject: JSONValue) -> None:
        """Validate a subject against the schema (see :func:`validate_subject`)."""
        validate_subject(self.schema, subject)

    def prepare_subject(self, subject: Mapping[str, JSONValue], *, on: date) -> JSONObject:
        """Derive and cross-check a subject for issuance on ``on``, then validate it.

        Residency: ``ageOver14``/``ageOver19`` are derived from ``birthDate`` when absent and
        must agree with it when given. Income: ``period.from`` precedes ``period.to``.
        Certificates: ``expiresOn`` follows ``issuedOn``.

        Raises:
            MalformedInputError: ``schema_violation`` naming the field.
        """
        out = dict(subject)
        if self.schema == "residency":
            born = _date(out.get("birthDate"), "/birthDate")
            age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
            for flag, years in (("ageOver14", 14), ("ageOver19", 19)):
                derived = age >= years
                if flag not in out:
                    out[flag] = derived
                elif out[flag] is not derived:
                    raise _violation(f"/{flag}", "derived")
        elif self.schema == "income":
            period = out.get("period")
            if (
                isinstance(period, dict)
                and "from" in period
                and "to" in period
                and _date(period["from"], "/period/from") > _date(period["to"], "/period/to")
            ):
                raise _violation("/period/to", "order")
        elif (
            self.schema == "certificate"
            and "expiresOn" in out
            and _date(out["expiresOn"], "/expiresOn") <= _date(out.get("issuedOn"), "/issuedOn")
        ):
            raise _violation("/expiresOn", "order")
        self.validate(out)
        return out

    def type_metadata(self) -> JSONObject:
        """Return the SD-JWT VC type metadata document for ``vct`` (draft §6)."""
        claims: list[JSONValue] = [
            {"path": list(path), "sd": "allowed"} for path in self.disclosable
        ]
        return {
            "vct": self.vct,
            "name": self.title,
            "description": self.description,
            "display": [
                {"lang": "en-US", "name": self.title},
                {"lang": "ko-KR", "name": self.title_ko},
            ],
            "claims": claims,
        }


def _violation(field: str, rule: str) -> MalformedInputError:
    return MalformedInputError(
        Code.SCHEMA_VIOLATION, "the credential subject is inconsistent", field=field, rule=rule
    )


def _date(value: object, field: str) -> date:
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _violation(field, "format")


_BASE: Final = "https://schemas.seoul-vc.example/credentials/"

CREDENTIAL_TYPES: Final[Mapping[str, CredentialType]] = {
    t.name: t
    for t in (
        CredentialType(
            name="ResidencyCredential",
            schema="residency",
            vct=_BASE + "residency/v1",
            title="Seoul residency",
            title_ko="주민등록 거주 증명",
            description="Proof of residence in Seoul, replacing a copy of the resident "
            "registration (주민등록표 등본).",
            disclosable=(
                ("name",),
                ("birthDate",),
                ("ageOver14",),
                ("ageOver19",),
                ("address",),
                ("address", "city"),
                ("address", "district"),
                ("address", "dong"),
                ("address", "postalCode"),
                ("residentSince",),
                ("personPseudonym",),
            ),
        ),
        CredentialType(
            name="IncomeCredential",
            schema="income",
            vct=_BASE + "income/v1",
            title="Health-insurance eligibility and income bracket",
            title_ko="건강보험 자격 및 소득 구간",
            description="Health-insurance eligibility type and income bracket as a percentage "
            "of the standard median income (기준 중위소득).",
            disclosable=(
                ("eligibilityType",),
                ("incomeBracketPercent",),
                ("period",),
                ("householdSize",),
            ),
        ),
        CredentialType(
            name="CertificateCredential",
            schema="certificate",
            vct=_BASE + "certificate/v1",
            title="Certificate",
            title_ko="증명서",
            description="A graduation, enrolment, qualification, course-completion, "
            "performance or pass certificate (졸업·재학·자격·수료·실적·합격 증명서).",
            disclosable=(
                ("title",),
                ("issuingOrganisation",),
                ("certificateNumber",),
                ("issuedOn",),
                ("expiresOn",),
                ("holderName",),
            ),
        ),
    )
}


def credential_type(name: str) -> CredentialType:
    """Return a known type by its VC ``type`` name.

    Raises:
        ConfigurationError: ``bad_argument`` for a type the library does not know.
    """
    try:
        return CREDENTIAL_TYPES[name]
    except KeyError:
        raise ConfigurationError(
            Code.BAD_ARGUMENT, "unknown credential type", type=name[:64]
        ) from None


def find_by_vct(vct: str) -> CredentialType | None:
    """Return the known type with this ``vct``, if any."""
    return next((t for t in CREDENTIAL_TYPES.values() if t.vct == vct), None)
