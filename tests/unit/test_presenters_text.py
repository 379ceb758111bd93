"""Text for a terminal never carries a control sequence from outside; JSON stays exact.

A provider's error text, a prompt, a status or a rejection reason may hold ``ESC [2J`` (clear
the screen), an OSC that retitles the terminal, or the one-character C1 CSI ``U+009B``:
``receiver show`` / ``jobs`` / ``deliveries`` / ``attention`` print them escaped.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from receiver import presenters
from receiver.jobs import Attention, JobDetails, JobSummary
from receiver.lifecycle import DeliveryOutcome, JobStatus
from receiver.store.records import Asset, Delivery, Event, Job

HOSTILE = "\x1b[2J\x1b]0;pwned\x07 \x9b31m red\x9b0m\r\nstatus    stored\x08\x7f\u202e"
AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

#: Characters a terminal acts on: C0, DEL, C1, line separators, bidi controls.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _job() -> Job:
    return Job(
        id="job_01",
        provider="evolink",
        model="veo3" + HOSTILE,
        prompt="a fox " + HOSTILE,
        params={"duration": 5},
        status=JobStatus.FAILED,
        task_id="task" + HOSTILE,
        provider_status="failed" + HOSTILE,
        progress=None,
        error_code="E" + HOSTILE,
        error_message="the provider says: " + HOSTILE,
        attention="unknown status" + HOSTILE,
        estimated_seconds=None,
        credits_reserved=None,
        created_at=AT,
        submitted_at=AT,
        finished_at=AT,
        stored_at=None,
        updated_at=AT,
    )


def _delivery() -> Delivery:
    return Delivery(
        id="dlv_01",
        provider="evolink",
        source="callback",
        job_id="job_01",
        task_id="task" + HOSTILE,
        provider_status="weird" + HOSTILE,
        outcome=DeliveryOutcome.REJECTED,
        reason="bad body: " + HOSTILE,
        client_addr="203.0.113.9",
        body_size=10,
        received_at=AT,
    )


def _asset() -> Asset:
    return Asset(
        job_id="job_01",
        bucket="videos",
        object_key="2026/05/01/job_01.mp4",
        size_bytes=1024,
        sha256="0" * 64,
        content_type="video/mp4",
        etag=None,
        stored_at=AT,
        codec="h264" + HOSTILE,
        width=1920,
        height=1080,
        duration_seconds=5.0,
    )


def _details() -> JobDetails:
    event = Event(seq=1, job_id="job_01", type="job.failed", data={"x": HOSTILE}, created_at=AT)
    return JobDetails(job=_job(), asset=_asset(), deliveries=[_delivery()], events=[event])


TEXTS = {
    "show": lambda: presenters.text_details(_details()),
    "jobs": lambda: presenters.text_table([JobSummary(job=_job(), asset=_asset())]),
    "deliveries": lambda: presenters.text_deliveries([_delivery()]),
    "attention": lambda: presenters.text_attention(
        Attention(jobs=[(_job(), "says " + HOSTILE)], rejections=[_delivery()])
    ),
}


@pytest.mark.parametrize("name", TEXTS)
def test_text_output_holds_no_control_character_from_outside(name: str) -> None:
    text = TEXTS[name]()
    lines = text.split("\n")
    for line in lines:
        assert not CONTROL.search(line), (name, line)
    # What was there is still shown, escaped.
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in text
    assert "\\x9b31m" in text
    # A newline from outside never starts a line of its own ("status    stored" is not ours).
    assert not any(line.startswith("status    stored") for line in lines)


def test_show_prints_the_provider_error_escaped_on_its_own_line() -> None:
    lines = presenters.text_details(_details()).split("\n")
    (error,) = [line for line in lines if line.startswith("error ")]
    assert error == (
        "error     E\\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m red\\x9b0m\\r\\nstatus    stored"
        "\\x08\\x7f\\u202e the provider says: \\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m red\\x9b0m"
        "\\r\\nstatus    stored\\x08\\x7f\\u202e"
    )


def test_the_table_columns_line_up_with_what_is_printed() -> None:
    text = presenters.text_table([JobSummary(job=_job(), asset=_asset())])
    header, row = text.split("\n")
    assert header.index("STATUS") == row.index("failed")
    assert header.index("PROMPT") == row.index("a fox ")


def test_json_output_stays_exact() -> None:
    document = presenters.details_json(_details())
    assert document["error"] == {"code": "E" + HOSTILE, "message": "the provider says: " + HOSTILE}
    assert document["prompt"] == "a fox " + HOSTILE
    assert document["deliveries"][0]["reason"] == "bad body: " + HOSTILE
    assert json.loads(json.dumps(document)) == document
    # And once serialised, it carries no raw control byte either.
    assert not CONTROL.search(json.dumps(document))


def test_terminal_safe_escapes_only_what_a_terminal_acts_on() -> None:
    assert presenters.terminal_safe("plain text, ünïcödé … 🎬") == "plain text, ünïcödé … 🎬"
    assert presenters.terminal_safe("\x1b\x07\x9b\x00\t\n\r\x7f") == (
        "\\x1b\\x07\\x9b\\x00\\t\\n\\r\\x7f"
    )
    assert presenters.terminal_safe("\u2028\u202e\u2066") == "\\u2028\\u202e\\u2066"
    every = "".join(map(chr, range(0x250)))
    assert not CONTROL.search(presenters.terminal_safe(every))
