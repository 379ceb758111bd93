"""The command line's output conventions, proven by running it as a user would.

- Every option and argument of every command has help text; every command that prints a
  result takes ``--json`` (a JSON document, or JSON Lines for lists), as docs/cli.md says.
- ``receiver completion bash`` completes commands and options in a real bash.
- Against ``receiver serve`` and the simulator: ``jobs --since/--model/--limit`` filter and say
  "N of M shown" on stderr; ``deliveries show ID`` prints a stored delivery's headers and body
  (``--json``: the exact body); ``show`` prints the credits; ``replay --dry-run --json``,
  ``reconcile --json``, ``retry --json``, ``callback-url --json``, ``migrate --json`` and
  ``download --json`` print JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

import pytest

from receiver.cli import _parser
from tests.e2e.conftest import Stack
from tests.e2e.promise_tools import await_job, cli, submit

pytestmark = pytest.mark.e2e

#: Commands that run a service (their output is the log) or print a file in another format.
_NO_JSON = {"serve", "worker", "simulator", "dev", "completion", "config"}


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_option_and_argument_has_help() -> None:
    missing = [
        f"{name} {action.dest}"
        for name, command in _commands().items()
        for action in command._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert missing == []


def test_every_command_that_prints_a_result_takes_json() -> None:
    without = [
        name
        for name, command in _commands().items()
        if name not in _NO_JSON and "--json" not in command._option_string_actions
    ]
    assert without == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_completes_commands_and_options() -> None:
    script = subprocess.run(
        [sys.executable, "-m", "receiver", "completion", "bash"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    probe = (
        script
        + '\nCOMP_WORDS=(receiver del); COMP_CWORD=1; _shtab_receiver; echo "${COMPREPLY[*]}"'
        + "\nCOMP_WORDS=(receiver jobs --si); COMP_CWORD=2; _shtab_receiver;"
        + ' echo "${COMPREPLY[*]}"'
    )
    lines = subprocess.run(
        ["bash", "-c", probe], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert set(lines[0].split()) == {"delete", "deletions", "deliveries"}
    assert lines[1].split() == ["--since"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_listing_showing_and_recovery_commands_print_what_the_docs_say(
    stack: Stack,
) -> None:
    env = stack.env
    first = submit(stack, "a fox at dawn")
    second = submit(stack, "a heron at dusk")
    for job_id in (first, second):
        await_job(stack, job_id, "stored")

    # jobs: --limit shows the newest, stderr says how many there are.
    limited = cli(env, "jobs", "--limit", "1", "--json")
    assert limited.returncode == 0, limited.stderr
    assert [json.loads(line)["id"] for line in limited.stdout.splitlines()] == [second]
    assert "1 of 2 shown" in limited.stderr
    everything = cli(env, "jobs", "--since", "1h", "--model", "kling-v3-turbo-text-to-video")
    assert everything.returncode == 0, everything.stderr
    assert first in everything.stdout
    assert second in everything.stdout
    assert "shown" not in everything.stderr
    other_model = cli(env, "jobs", "--model", "no-such-model", "--json")
    assert other_model.stdout == ""
    for bad in (["--limit", "0"], ["--limit", "abc"], ["--since", "soon"]):
        refused = cli(env, "jobs", *bad)
        assert refused.returncode == 2, bad
        assert "Traceback" not in refused.stderr

    # show: the credits, with where they come from.
    shown = cli(env, "show", first)
    document = json.loads(cli(env, "show", first, "--json").stdout)
    assert document["credits_estimated"] > 0  # our price table knows the default model
    if document["credits_reserved"] is not None:
        expected = f"credits   {document['credits_reserved']:g} (reserved by the provider)"
    else:
        expected = f"credits   {document['credits_estimated']:g} (estimated"
    assert expected in shown.stdout
    delivery_id = document["deliveries"][0]["id"]

    # deliveries show: the headers and the body as they were kept.
    text = cli(env, "deliveries", "show", delivery_id)
    assert text.returncode == 0, text.stderr
    assert f"delivery  {delivery_id}" in text.stdout
    assert "headers" in text.stdout
    assert "content-type" in text.stdout.lower()
    assert '  "status": "completed"' in text.stdout  # the JSON body, indented
    as_json = json.loads(cli(env, "deliveries", "show", delivery_id, "--json").stdout)
    assert as_json["id"] == delivery_id
    assert as_json["job_id"] == first
    assert json.loads(as_json["body"])["status"] == "completed"
    assert as_json["body_complete"] is True
    missing = cli(env, "deliveries", "show", "dlv_nope")
    assert missing.returncode == 1
    assert "no delivery 'dlv_nope'" in missing.stderr
    assert cli(env, "deliveries", "show").returncode == 2

    # replay --dry-run --json: one JSON line per delivery it would replay.
    dry = cli(env, "replay", delivery_id, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {"delivery_id": delivery_id, "would_replay": True}

    # reconcile, retry, callback-url, migrate, download: JSON documents or lines.
    reconciled = json.loads(cli(env, "reconcile", "--json").stdout)
    # Both jobs are stored: there is nothing to ask the provider about.
    assert reconciled == {
        "checked": 0,
        "recovered": 0,
        "still_running": 0,
        "errors": [],
        "rate_limited": False,
    }
    retried = cli(env, "retry", first, "--json")
    assert retried.returncode == 1  # a stored job has nothing to retry: said on stderr
    assert retried.stdout == ""
    assert first in retried.stderr
    url = json.loads(cli(env, "callback-url", "--label", "mine", "--json").stdout)
    assert url["callback_url"].startswith(env["RECEIVER_PUBLIC_URL"])
    assert url["label"] == "mine"
    assert json.loads(cli(env, "migrate", "--json").stdout) == {"applied": []}
    saved = cli(env, "download", first, "--to", f"{stack.tmp_path}/", "--json")
    assert saved.returncode == 0, saved.stderr
    download = json.loads(saved.stdout)
    assert download["job_id"] == first
    assert download["size_bytes"] > 0
    assert download["path"].endswith(f"{first}.mp4")
