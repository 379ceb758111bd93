"""``infra/env.example``, the tables of ``docs/configuration.md`` and ``receiver --help``'s list
of variables, made from the one table of the settings.

All are generated from :class:`receiver.config.Settings` (each field declares its variable,
default and help; :data:`receiver.config.VARIABLES` lists them), so none can miss a variable
or show a default the code does not use. ``python -m receiver.config_docs`` rewrites them in a
checkout (``--check``: exit 1 if either is stale, which a unit test also asserts);
``receiver config --example`` prints the example to stdout, for an installed package.

In ``docs/configuration.md`` each table sits between ``<!-- variables: SECTION -->`` and
``<!-- /variables -->``; the prose around them is written by hand.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from receiver.config import VARIABLES
from receiver.variables import SECTIONS, Variable

__all__ = [
    "ENV_EXAMPLE",
    "REFERENCE",
    "cli_environment_help",
    "env_example",
    "fill_tables",
    "markdown_table",
]

_ROOT = Path(__file__).resolve().parents[1]
#: The generated files, relative to the repository's root.
ENV_EXAMPLE = Path("infra/env.example")
REFERENCE = Path("docs/configuration.md")

_WIDTH = 92
#: Where the descriptions start in ``receiver --help``'s list (after the longest name there).
_HELP_COLUMN = 28
_HEADER = """\
receiver's environment: copy to infra/.env (docker compose) or /etc/receiver/env (systemd,
mode 0640, owner root, group receiver). One VAR=value a line, no quotes, no `export`.
Every variable receiver reads is here; commented-out lines show the default. Meanings in
detail: docs/configuration.md. Walkthrough: docs/deploy.md. Once deployed, `receiver doctor`
checks the whole setup and says what to fix.
Generated from the settings table, receiver/config.py (python -m receiver.config_docs):
edit it there."""

#: Read by infra/docker-compose.yml, not by receiver.
_COMPOSE = (
    (
        "The public name: DNS A/AAAA records point at this host; Caddy gets its certificate.",
        "RECEIVER_DOMAIN=receiver.example.com",
    ),
    (
        "Where the certificate authority sends expiry and account notices.",
        "ACME_EMAIL=ops@example.com",
    ),
    (
        "Password of the `receiver` PostgreSQL role the compose file creates (URL-safe "
        "characters).",
        "POSTGRES_PASSWORD=CHANGE_ME",
    ),
)
_BLOCK = re.compile(r"(<!-- variables: (\w+) -->\n)(.*?)(<!-- /variables -->)", re.DOTALL)


def _comment(text: str) -> list[str]:
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent="# ",
        subsequent_indent="# ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _rule(title: str) -> str:
    start = f"# ── {title} "
    return start + "─" * (_WIDTH - len(start))


def _entry(variable: Variable) -> list[str]:
    lines = _comment(variable.meaning[:1].upper() + variable.meaning[1:] + ".")
    if variable.note:
        lines += _comment(variable.note)
    if variable.example is not None:
        lines.append(f"{variable.name}={variable.example}")
    else:
        lines.append(f"#{variable.name}={variable.default or ''}")
    return lines


def env_example() -> str:
    """The text of ``infra/env.example``."""
    lines = [f"# {line}".rstrip() for line in _HEADER.splitlines()]
    lines += ["", _rule("Must set")]
    for variable in VARIABLES:
        if variable.must_set:
            lines += ["", *_entry(variable)]
    lines += ["", _rule("Docker compose only")]
    for meaning, line in _COMPOSE:
        lines += ["", *_comment(meaning), line]
    for section in SECTIONS:
        entries = [v for v in VARIABLES if v.section == section and v.in_example]
        entries = [v for v in entries if not v.must_set]
        if entries:
            lines += ["", _rule(section)]
            for variable in entries:
                lines += ["", *_entry(variable)]
    return "\n".join(lines) + "\n"


def markdown_table(section: str) -> str:
    """The table of one section of ``docs/configuration.md``."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for variable in VARIABLES:
        if variable.section != section:
            continue
        default = f"`{variable.default}`" if variable.default else variable.unset
        cell = f"{variable.meaning}. {variable.more}".strip()
        if "|" in cell:
            raise ValueError(f"{variable.name}: a table cell cannot hold '|'")
        rows.append(f"| `{variable.name}` | {default} | {cell} |")
    return "\n".join(rows) + "\n"


def fill_tables(markdown: str) -> str:
    """``markdown`` with every marked table replaced by the generated one.

    Raises ValueError when a section has no block, or one more than once: then some
    variables would go undocumented, or a section twice.
    """
    found = [match.group(2) for match in _BLOCK.finditer(markdown)]
    if sorted(found) != sorted(SECTIONS):
        raise ValueError(
            f"{REFERENCE} must hold one variables block per section {list(SECTIONS)}, found {found}"
        )
    return _BLOCK.sub(
        # Blank lines around the table: every Markdown renderer then sees a table.
        lambda match: f"{match.group(1)}\n{markdown_table(match.group(2))}\n{match.group(4)}",
        markdown,
    )


def cli_environment_help() -> str:
    """The epilog of ``receiver --help``: the variables that have a ``brief``, with defaults."""
    lines = ["configuration (environment):"]
    for variable in VARIABLES:
        if not variable.brief:
            continue
        brief = variable.brief
        if variable.default:
            brief += f" (default: {variable.default})"
        lines += textwrap.wrap(
            brief,
            _WIDTH,
            initial_indent=f"  {variable.name:<{_HELP_COLUMN - 2}}",
            subsequent_indent=" " * _HELP_COLUMN,
            break_long_words=False,
            break_on_hyphens=False,
        )
    lines += [
        "  full list: docs/configuration.md, or `receiver config --example`",
        "",
        "after deploying: `receiver doctor` checks everything and says what to fix",
    ]
    return "\n".join(lines) + "\n"


def _generated(root: Path) -> dict[Path, str]:
    reference = (root / REFERENCE).read_text(encoding="utf-8")
    return {ENV_EXAMPLE: env_example(), REFERENCE: fill_tables(reference)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m receiver.config_docs",
        description=f"Write {ENV_EXAMPLE} and {REFERENCE}'s tables from receiver/config.py.",
    )
    parser.add_argument("--check", action="store_true", help="only say whether they are current")
    parser.add_argument("--root", type=Path, default=_ROOT, help="the repository's root")
    args = parser.parse_args(argv)
    stale = []
    for path, text in _generated(args.root).items():
        if (args.root / path).read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            (args.root / path).write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{path}: {'stale' if args.check else 'rewritten'}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
