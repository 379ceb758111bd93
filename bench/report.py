"""Laying out scenario results: plain text for stdout, Markdown for ``docs/benchmarks.md``."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

from bench.machine import Machine
from bench.results import ScenarioResult

__all__ = ["markdown", "text", "text_machine", "write"]

_WIDTH = 100


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def text_machine(machine: Machine) -> str:
    return "\n".join(f"{label}: {value}" for label, value in machine.lines())


def text(result: ScenarioResult) -> str:
    width = max(len(figure.label) for figure in result.figures) + 2
    columns = max(
        len(result.baseline),
        len(result.subject),
        *(len(f.baseline) for f in result.figures),
        *(len(f.subject) for f in result.figures),
    )
    lines = [
        f"{result.name}: {result.title} ({result.seconds:.0f} s)",
        f"{'':<{width}}{result.baseline:>{columns}}  {result.subject:>{columns}}",
    ]
    lines += [
        f"{f.label:<{width}}{f.baseline:>{columns}}  {f.subject:>{columns}}" for f in result.figures
    ]
    label_width = max(len(ratio.label) for ratio in result.ratios) + 2
    value_width = max(len(ratio.value) for ratio in result.ratios)
    lines.append("ratios:")
    lines += [
        f"  {r.label:<{label_width}}{r.value:>{value_width}}   target {r.target:<8} "
        f"{_verdict(r.met)}"
        for r in result.ratios
    ]
    lines.append("checks:")
    lines += [
        _wrap(f"{'ok' if c.ok else 'FAILED':<7}{c.label}: {c.detail}", "  ", "         ")
        for c in result.checks
    ]
    if result.notes:
        lines.append("notes:")
        lines += [_wrap(note, "  - ", "    ") for note in result.notes]
    return "\n".join(lines)


def _wrap(paragraph: str, first: str, rest: str) -> str:
    return textwrap.fill(paragraph, width=_WIDTH, initial_indent=first, subsequent_indent=rest)


def markdown(
    machine: Machine,
    results: Sequence[ScenarioResult],
    *,
    earlier: str | None = None,
    order: Sequence[str] = (),
) -> str:
    """The report; with ``earlier`` (the file as it was), the sections of scenarios that did
    not run this time are kept as they were, in ``order``, each saying when it was measured."""
    sections = {result.name: "\n".join(_section(result, machine)) for result in results}
    if earlier is not None:
        when = _earlier_date(earlier)
        for name, kept in _sections(earlier).items():
            dated = kept
            if "; measured " not in kept and when:
                dated = re.sub(r"(The scenario took \d+ s)\.$", rf"\1; measured {when}.", kept)
            sections.setdefault(name, dated)
    names = [name for name in order if name in sections]
    names += [name for name in sections if name not in names]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); rerun it rather than editing this file.",
        "Each scenario measures receiver and its named baseline side by side in the same run,",
        "on the machine below: compare the ratios, not absolute figures from other machines.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [f"| {label} | {value} |" for label, value in machine.lines()]
    if earlier is not None and len(names) > len(results):
        lines += [
            "",
            "Sections from an earlier run (not rerun this time) say when they were measured.",
        ]
    for name in names:
        lines.append(sections[name])
    return "\n".join(lines) + "\n"


def _earlier_date(document: str) -> str | None:
    found = re.search(r"^\| date \| (.+) \|$", document, re.MULTILINE)
    return found.group(1) if found else None


def _sections(document: str) -> dict[str, str]:
    """A written report's scenario sections, by scenario name, each with its leading blank."""
    found: dict[str, str] = {}
    name: str | None = None
    body: list[str] = []
    for line in document.splitlines():
        if line.startswith("## `"):
            if name is not None:
                found[name] = "\n".join(["", *body]).rstrip()
            name, body = line.split("`")[1], [line]
        elif line.startswith("## "):
            if name is not None:
                found[name] = "\n".join(["", *body]).rstrip()
            name, body = None, []
        elif name is not None:
            body.append(line)
    if name is not None:
        found[name] = "\n".join(["", *body]).rstrip()
    return found


def _section(result: ScenarioResult, machine: Machine) -> list[str]:
    lines = [
        "",
        f"## `{result.name}`: {result.title}",
        "",
        result.method,
        "",
        f"| | {result.baseline} | {result.subject} |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {_cell(f.label)} | {f.baseline} | {f.subject} |" for f in result.figures]
    lines += ["", "| ratio | value | target | |", "| --- | ---: | --- | --- |"]
    lines += [
        f"| {r.label} | {r.value} | {r.target.replace('>=', '≥').replace('<=', '≤')} | "
        f"{_verdict(r.met)} |"
        for r in result.ratios
    ]
    lines += ["", "Checks:", ""]
    lines += [f"- **{'ok' if c.ok else 'FAILED'}**: {c.label}: {c.detail}" for c in result.checks]
    if result.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {note}" for note in result.notes]
    lines += ["", f"The scenario took {result.seconds:.0f} s; measured {machine.date}."]
    return lines


def _cell(label: str) -> str:
    """Indented sub-rows keep their indent in Markdown tables."""
    stripped = label.lstrip()
    return "&nbsp;&nbsp;" * ((len(label) - len(stripped)) // 2) + stripped


def write(path: Path, document: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document)
