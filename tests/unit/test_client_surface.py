"""The public surface of receiver.client is guarded: its names, its imports, its types.

- ``__all__`` is the API: a name added or removed must be added or removed here too (as
  httpx's ``tests/test_exported_members.py`` does), and every public name is in it.
- Importing it loads httpx and the standard library, never the server's side.
- The records it reads answers into hold the same fields, of compatible types, as the
  API's OpenAPI document describes; a field the client requires is one the API must send.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest

import receiver.client
from receiver.client import (
    Asset,
    Budget,
    Costs,
    Delivery,
    Estimate,
    Event,
    Job,
    ReplayResult,
    ReplaySummary,
)
from receiver.web.openapi import DOCUMENT

EXPORTED = {
    "APIError",
    "Asset",
    "AsyncClient",
    "BadRequest",
    "Budget",
    "BudgetExceeded",
    "ChecksumMismatch",
    "Client",
    "ClientError",
    "ConfigurationError",
    "Conflict",
    "CostGroup",
    "Costs",
    "Delivery",
    "DownloadError",
    "DownloadedFile",
    "Estimate",
    "Event",
    "InvalidArgument",
    "Job",
    "JobError",
    "NotFound",
    "Notification",
    "NotificationError",
    "PaymentRequired",
    "ProtocolError",
    "RateLimited",
    "ReplayResult",
    "ReplaySummary",
    "ServerError",
    "Shot",
    "Unauthorized",
    "Unreachable",
    "WaitTimeout",
    "parse_notification",
}

#: What an application that imports the client must never pay for.
SERVER_SIDE = (
    "boto3",
    "botocore",
    "starlette",
    "uvicorn",
    "psycopg",
    "sqlite3",
    "structlog",
    "PIL",
    "av",
    "tqdm",
    "standardwebhooks",
    "receiver.config",
    "receiver.context",
    "receiver.store",
    "receiver.jobs",
    "receiver.web",
)

SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def test_the_exported_names_are_the_api() -> None:
    assert set(receiver.client.__all__) == EXPORTED
    assert len(receiver.client.__all__) == len(EXPORTED)
    public = {name for name in vars(receiver.client) if not name.startswith("_")}
    # Besides __all__, only the submodules and the __future__ import are visible.
    modules = {
        name
        for name in public
        if isinstance(getattr(receiver.client, name), types.ModuleType) or name == "annotations"
    }
    assert public - modules == EXPORTED


def test_every_exported_member_lives_in_a_private_module_of_the_package() -> None:
    # Applications import from receiver.client only; the modules behind it may move.
    for name in EXPORTED - {"Shot"}:
        module = getattr(receiver.client, name).__module__
        assert module.startswith("receiver.client._"), (name, module)


def test_importing_the_client_loads_nothing_of_the_server() -> None:
    probe = (
        "import sys, receiver.client\n"
        f"bad = [m for m in sys.modules if m.startswith({SERVER_SIDE!r})]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_every_client_error_is_a_receiver_error() -> None:
    from receiver.errors import ReceiverError

    errors = [getattr(receiver.client, name) for name in EXPORTED]
    for error in errors:
        if isinstance(error, type) and issubclass(error, Exception):
            assert issubclass(error, receiver.client.ClientError)
            assert issubclass(error, ReceiverError)


# ── the records against the OpenAPI document ──


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return _resolve(SCHEMAS[ref.rsplit("/", 1)[1]])


def _types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a schema admits ("null" included), $refs and oneOf followed."""
    schema = _resolve(schema)
    if "oneOf" in schema:
        return set().union(*(_types(option) for option in schema["oneOf"]))
    if "enum" in schema:
        return {_json_type(value) for value in schema["enum"]}
    if "const" in schema:
        return {_json_type(schema["const"])}
    kind: str | list[str] = schema.get("type", [])
    return set(kind) if isinstance(kind, list) else {kind}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "integer" if isinstance(value, int) else "number"


_JSON_OF = {
    str: {"string"},
    int: {"integer"},
    float: {"number", "integer"},
    bool: {"boolean"},
    datetime: {"string"},
}

#: Properties every answer has that the document does not (yet) mark required; each is
#: written unconditionally by the code named. Remove an entry when the document gains it.
UNMARKED_REQUIRED = {
    ("Budget", "limit"),  # receiver/submission/budget.py BudgetState.as_json
    ("Budget", "spent_today"),
    ("Budget", "remaining"),
}


def _compatible(annotation: Any, schema: Mapping[str, Any], where: str) -> None:
    admitted = _types(schema)
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        inner = [arg for arg in args if arg is not type(None)]
        assert len(inner) == 1, where
        assert "null" in admitted, f"{where}: the client takes null, the API never sends it"
        return _compatible(inner[0], {**schema, "type": sorted(admitted - {"null"})}, where)
    admitted.discard("null")
    if annotation in _JSON_OF:
        assert admitted, where
        assert admitted <= _JSON_OF[annotation], f"{where}: {admitted}"
        if annotation is datetime:
            assert _resolve(schema).get("format") == "date-time", where
        return None
    if origin is tuple:
        assert admitted == {"array"}, where
        items = _resolve(schema).get("items", {})
        return _compatible(args[0], items, f"{where}[]")
    if origin is Mapping or annotation is Mapping:
        assert admitted == {"object"}, where
        return None
    assert dataclasses.is_dataclass(annotation), f"{where}: {annotation!r}"
    assert "object" in admitted, f"{where}: {admitted}"
    return None


def _properties(schema: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    schema = _resolve(schema)
    if "allOf" in schema:
        props: dict[str, Any] = {}
        required: set[str] = set()
        for part in schema["allOf"]:
            more, needed = _properties(part)
            props.update(more)
            required |= needed
        return props, required
    return dict(schema.get("properties", {})), set(schema.get("required", ()))


def _fields(record: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(record)}


#: (record, schema, fields only the client has, properties the client does not read)
PAIRS: list[tuple[type, str, set[str], set[str]]] = [
    (Asset, "Asset", set(), set()),
    (Job, "JobDetails", set(), set()),
    # The job id of an event is the job's own (in a history) or the stream's field.
    (Event, "Event", {"job_id"}, set()),
    (Delivery, "Delivery", set(), set()),
    (Estimate, "Estimate", set(), set()),
    (Budget, "Budget", set(), set()),
    (ReplayResult, "ReplayResult", set(), set()),
    # One record for both answers: the dry run's and the replay's.
    (ReplaySummary, "ReplaySummary", {"dry_run", "deliveries"}, set()),
    (ReplaySummary, "ReplayDryRun", {"replayed", "already_done", "still_failing"}, set()),
    # groups are CostGroup records, checked below.
    (Costs, "Costs", set(), set()),
]


@pytest.mark.parametrize(
    ("record", "schema", "client_only", "unread"),
    PAIRS,
    ids=[f"{record.__name__}-{schema}" for record, schema, _, _ in PAIRS],
)
def test_a_record_matches_its_schema(
    record: type, schema: str, client_only: set[str], unread: set[str]
) -> None:
    properties, required = _properties(SCHEMAS[schema])
    fields = _fields(record)
    assert set(fields) - client_only == set(properties) - unread
    hints = typing.get_type_hints(record)
    for name in set(fields) - client_only:
        if name == "groups":
            continue
        _compatible(hints[name], properties[name], f"{record.__name__}.{name}")
    # A field the client cannot do without is one the API promises to send.
    needed = {
        name
        for name, spec in fields.items()
        if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
    }
    required |= {name for where, name in UNMARKED_REQUIRED if where == schema}
    assert needed - client_only <= required, needed - required


def test_cost_groups_match_their_schema() -> None:
    from receiver.client import CostGroup

    group = _resolve(_properties(SCHEMAS["Costs"])[0]["groups"])["items"]
    properties, _ = _properties(group)
    # The group's key is named after the grouping: "model" or "day".
    assert set(_fields(CostGroup)) - {"key"} == set(properties) - {"model", "day"}
    assert {"model", "day"} <= set(properties)


def test_a_page_holds_what_the_client_reads() -> None:
    properties, required = _properties(SCHEMAS["JobPage"])
    assert {"jobs", "next_cursor", "last_event_seq"} <= required
    assert _resolve(properties["jobs"]["items"]) is _resolve(SCHEMAS["Job"])


def test_the_request_body_the_client_sends_is_the_documented_one() -> None:
    from receiver.client._protocol import submit_call

    call = submit_call(
        "a kite",
        shots=["2:up", (3, "down")],
        image="https://example.com/frame.png",
        duration=5,
        aspect_ratio="16:9",
        quality="720p",
        model="m",
        negative_prompt="blur",
        sound=True,
        provider="evolink",
        dry_run=True,
        idempotency_key="k",
    )
    accepted = SCHEMAS["JobRequest"]["properties"]
    assert set(call.json) <= set(accepted)
    assert set(call.json) == set(accepted)  # every option of the API can be sent
    assert call.headers == {"Idempotency-Key": "k"}
