"""The HTTP API against its own OpenAPI document, by Schemathesis, over real HTTP.

A real ``receiver serve`` app (SQLite, SeaweedFS, the provider simulator behind it for
submissions) is sent, for every operation of the document it serves at ``/openapi.json``,
Schemathesis's coverage cases (each parameter and body field at its boundaries, missing, of
a wrong type; methods the path does not take) and a few random valid requests, also to a
real job, delivery and callback token seeded beforehand. Every answer must be no 5xx, a
documented status with a documented content type, headers and schema; a request the
document calls invalid must be refused with a 4xx; a method a path does not take, with 405
and a true ``Allow``; an operation that needs the admin token, without it, with 401.

``/v1/events`` is left out: its 200 is a stream that never ends; its refusals are tested in
``test_api_contract.py``. About 20 seconds: coverage cases are a few dozen per operation,
random ones a dozen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from receiver.config import Settings
from receiver.context import Context
from receiver.devtools.seaweed import SeaweedFS, free_ports
from receiver.devtools.simulator import SimulatorConfig
from receiver.devtools.simulator import create_app as simulator_app
from receiver.runtime import web_app
from receiver.tokens import CallbackClaims
from tests.conftest import make_env, run_sql, s3_env
from tests.factories import make_job, store_asset
from tests.integration.test_intake import body, deliver
from tests.servers import run_server

pytestmark = pytest.mark.integration

TOKEN = "admin-token-for-tests-0123456789"
KLING_ACCESS_KEY = "ak-conformance"
KLING_SECRET_KEY = "sk-conformance-" + "s" * 24
#: Random valid requests per operation: enough to meet its answers, few enough for seconds.
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
    # Coverage sends methods a path does not take: 405, with an Allow that tells the truth.
    unsupported_method,
    allow_header_conformance,
]


@dataclass(frozen=True)
class Served:
    base: str
    schema: Any
    #: Path parameters that name things that exist, by parameter name.
    real: dict[str, str]


def _seed(ctx: Context) -> dict[str, str]:
    """A stored job (asset, events, deliveries) and one pending; their ids and a token."""
    pending = make_job(ctx.db, task_id="task-pending")
    stored = make_job(ctx.db, task_id="task-1")
    deliver(ctx.db, stored, body(task_id="task-1", status="processing"))
    deliver(ctx.db, stored, body(task_id="task-1", status="completed"))
    with ctx.db.transaction() as conn:
        store_asset(conn, stored, bucket=ctx.settings.s3_bucket)
    run_sql(ctx.db, "UPDATE jobs SET status = 'stored' WHERE id = :id", id=stored)
    (delivery,) = run_sql(ctx.db, "SELECT id FROM deliveries WHERE job_id = :id LIMIT 1", id=stored)
    token = ctx.signer.callback_url("http://x", CallbackClaims(provider="evolink", job_id=pending))
    return {
        "job_id": stored,
        "delivery_id": str(delivery["id"]),
        "provider": "evolink",
        "token": token.rsplit("/", 1)[1],
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("conformance")
    simulator = SimulatorConfig(
        delay=600,  # tasks never finish during the test: only the create answers matter
        kling_access_key=KLING_ACCESS_KEY,
        kling_secret_key=KLING_SECRET_KEY,
        allow_http_callbacks=True,
        allow_private_callbacks=True,
    )
    (port,) = free_ports(1)
    with run_server(simulator_app(simulator)) as simulator_url:
        env = make_env(
            tmp,
            **s3_env(seaweedfs),
            RECEIVER_PUBLIC_URL=f"http://127.0.0.1:{port}",
            RECEIVER_ADMIN_TOKEN=TOKEN,
            EVOLINK_BASE_URL=simulator_url,
            KLING_BASE_URL=simulator_url,
            KLING_ACCESS_KEY=KLING_ACCESS_KEY,
            KLING_SECRET_KEY=KLING_SECRET_KEY,
        )
        with Context(Settings.from_env(env)) as ctx:
            ctx.store.ensure_bucket()
            with run_server(web_app(ctx, archive=False), port=port) as base:
                real = _seed(ctx)
                schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
                yield Served(base=base, schema=schema, real=real)


def _operations(served: Served) -> list[Operation]:
    found = [result.ok() for result in served.schema.get_all_operations()]
    return [op for op in found if op.path != "/v1/events"]


AUTH = {"Authorization": f"Bearer {TOKEN}"}
Operation = APIOperation[Any, Any, Any, Any]


def _call(served: Served, case: Case[Any], checks: list[Any]) -> None:
    # The video's 302 is the answer under test, not the bucket's object behind it.
    case.call_and_validate(base_url=served.base, headers=AUTH, checks=checks, allow_redirects=False)


def _coverage(served: Served, operation: Operation) -> int:
    """Schemathesis's coverage cases: each parameter and field at its boundaries, missing,
    and of a wrong type or shape; a wrong one must be refused with a 4xx."""
    schema = served.schema
    cases = 0
    for case in schema.iter_coverage_cases(
        operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
    ):
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        _call(served, case, [*CHECKS, negative_data_rejection] if negative else CHECKS)
        cases += 1
    return cases


def _fuzz(served: Served, operation: Operation, path_parameters: dict[str, str]) -> None:
    """Random valid requests (to the things named in ``path_parameters`` when given)."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(path_parameters=path_parameters or None))
    def check(case: Case[Any]) -> None:
        _call(served, case, CHECKS)

    check()


def test_every_operation_answers_as_documented(served: Served) -> None:
    operations = _operations(served)
    documented = {
        f"{method.upper()} {path}"
        for path, methods in served.schema.raw_schema["paths"].items()
        for method in methods
    }
    # Schemathesis leaves out the document it was loaded from (compared whole below).
    assert {op.label for op in operations} == documented - {"GET /v1/events", "GET /openapi.json"}
    failures: list[str] = []
    for operation in operations:
        names = [parameter.name for parameter in operation.path_parameters]
        real = {name: served.real[name] for name in names if name in served.real}
        runs: list[tuple[str, Callable[[], object]]] = [
            ("coverage", partial(_coverage, served, operation)),
            ("fuzz", partial(_fuzz, served, operation, {})),
        ]
        if real:
            runs.append((f"fuzz {real}", partial(_fuzz, served, operation, real)))
        for name, run in runs:
            # Every operation's failures, not the first only (Schemathesis raises a group).
            try:
                run()
            except (Exception, FailureGroup) as exc:
                failures.append(f"{operation.label} ({name}): {exc}")
    assert not failures, "\n\n".join(failures)


def test_the_document_it_tests_is_the_one_served(served: Served) -> None:
    served_document = httpx.get(f"{served.base}/openapi.json", timeout=10).json()
    assert served.schema.raw_schema == served_document
    assert (
        json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text())
        == served_document
    )
