"""Fuzz the live service against its own OpenAPI document with schemathesis.

Every operation gets generated valid and invalid requests (bodies, parameters, headers, with
and without valid credentials); the service must never answer 500, must answer only with the
statuses, media types and body schemas it documents, must refuse schema-violating input
with a 4xx, and must enforce the authentication it declares. Valid-by-schema input is not
expected to be accepted: a random token or signature is well-formed and still refused.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from live_service import LiveService, run_service
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import checks as openapi_checks

from https_server import LocalCA

pytestmark = pytest.mark.slow

_PIN = "482913"
#: Examples per operation and mode: enough to reach every branch of the request schemas
#: (the CI run is bounded; a longer local run: SEOUL_VC_FUZZ_EXAMPLES=500).
_EXAMPLES = int(os.environ.get("SEOUL_VC_FUZZ_EXAMPLES", "25"))
#: Schema-valid input is not expected to be accepted (random tokens are refused).
_EXCLUDED = [openapi_checks.positive_data_acceptance]
#: Schema-violating input must be refused with one of these (413: a generated body past
#: max_body_bytes is refused before it is read, which is a refusal too).
_CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    "400", "401", "403", "404", "405", "409", "413", "415", "422", "429",
                ]
            }
        }
    }
)  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_target(
    tmp_path_factory: pytest.TempPathFactory, local_ca: LocalCA
) -> Iterator[tuple[LiveService, dict[str, str], requests.Session, Path]]:
    """One live service for the whole module, a wallet in it, a session and the CA file."""
    folder = tmp_path_factory.mktemp("fuzz")
    token = "fuzz-agency-token-0123456789abcdef"
    with run_service(folder, local_ca, tokens={"issuer": token, "verifier": token}) as live:
        wallets = live.service.wallets
        assert wallets is not None
        wallet = wallets.create(_PIN)
        basic = base64.b64encode(f"{wallet.id}:{_PIN}".encode()).decode()
        auth = {
            "agencyToken": f"Bearer {live.tokens['issuer']}",
            "citizenPin": f"Basic {basic}",
        }
        ca = folder / "ca.pem"
        ca.write_bytes(local_ca.ca_pem)
        with requests.Session() as session:
            # One session, so its connections are kept alive between cases: a TLS handshake
            # per generated request took over a third of the run.
            yield live, auth, session, ca


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_server_errors_and_only_documented_answers(
    fuzz_target: tuple[LiveService, dict[str, str], requests.Session, Path], mode: str
) -> None:
    """Each operation, fuzzed with schema-valid (positive) or schema-violating (negative) input.

    schemathesis's pytest plugin does not load under pytest 9, so the operations are driven
    with hypothesis directly: one ``@given`` run per operation and generation mode.
    """
    live, auth, session, ca = fuzz_target
    schema = schemathesis.openapi.from_dict(live.app.state.openapi, config=_CONFIG)
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 2
    for operation in operations:
        raw = operation.definition.raw
        if mode == "negative" and not raw.get("parameters") and "requestBody" not in raw:
            continue  # nothing to violate: no parameter, no body
        _fuzz(operation, generation, live.url, auth, session, ca)


def _fuzz(
    operation: Any,
    generation: GenerationMode,
    url: str,
    auth: dict[str, str],
    session: requests.Session,
    ca: Path,
) -> None:
    requirements = operation.definition.raw.get("security", [])
    schemes = sorted({scheme for requirement in requirements for scheme in requirement})

    @hypothesis.settings(
        max_examples=_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=generation))
    def run(case: Any) -> None:
        headers = dict(case.headers or {})
        if not any(h.lower() == "authorization" for h in headers):
            for scheme in schemes:
                if scheme in auth:
                    headers["Authorization"] = auth[scheme]
        case.call_and_validate(
            base_url=url,
            session=session,
            verify=str(ca),  # schemathesis sends verify=True unless told: the test CA
            headers=headers,
            timeout=30,
            excluded_checks=_EXCLUDED,
        )

    run()
