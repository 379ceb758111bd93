"""The one table of the settings (the fields of receiver.config.Settings, each declared with
receiver.variables.setting) against the code and what is made from it: infra/env.example, the
tables of docs/configuration.md and the list of variables in `receiver --help`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from receiver import config_docs
from receiver.config import VARIABLES, Settings
from receiver.variables import SECTIONS, SIMULATOR, Variable

ROOT = Path(__file__).resolve().parents[2]
#: Names in the code that look like receiver's variables and are not: a constant, and a
#: variable of infra/docker-compose.yml that env.example lists.
NOT_VARIABLES = {"RECEIVER_DOMAIN"}


class _Recording(Mapping[str, str]):
    """An empty environment that writes down every name asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(name)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_env_example_is_generated_from_the_declaration() -> None:
    # `python -m receiver.config_docs` rewrites it; this fails when someone forgot to.
    assert (ROOT / config_docs.ENV_EXAMPLE).read_text() == config_docs.env_example()


def test_configuration_tables_are_generated_from_the_declaration() -> None:
    text = (ROOT / config_docs.REFERENCE).read_text()
    assert text == config_docs.fill_tables(text)


def test_the_check_command_says_whether_the_files_are_current(tmp_path: Path) -> None:
    for path in (config_docs.ENV_EXAMPLE, config_docs.REFERENCE):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text((ROOT / path).read_text())
    assert config_docs.main(["--check", "--root", str(tmp_path)]) == 0
    stale = (tmp_path / config_docs.ENV_EXAMPLE).read_text().replace("=6MiB", "=8MiB")
    (tmp_path / config_docs.ENV_EXAMPLE).write_text(stale)
    assert config_docs.main(["--check", "--root", str(tmp_path)]) == 1
    assert config_docs.main(["--root", str(tmp_path)]) == 0
    assert config_docs.main(["--check", "--root", str(tmp_path)]) == 0


def test_every_variable_the_settings_read_is_declared_and_every_declared_one_is_read() -> None:
    environ = _Recording()
    Settings.from_env(environ)
    settings_variables = {v.name for v in VARIABLES if v.section != SIMULATOR}
    assert environ.asked == settings_variables


def test_every_variable_named_in_the_code_is_declared() -> None:
    pattern = re.compile(r"\b(?:RECEIVER|EVOLINK|KLING|AWS)_[A-Z][A-Z0-9_]*\b")
    named = {
        name
        for path in (ROOT / "receiver").rglob("*.py")
        for name in pattern.findall(path.read_text())
    }
    undeclared = named - NOT_VARIABLES - {variable.name for variable in VARIABLES}
    assert not undeclared, f"named in receiver/, not declared in receiver/config.py: {undeclared}"


def test_every_variable_is_in_a_documented_section_and_the_example() -> None:
    example = config_docs.env_example()
    for variable in VARIABLES:
        assert variable.section in SECTIONS
        assert f"`{variable.name}`" in config_docs.markdown_table(variable.section)
        if variable.in_example:
            assert re.search(rf"^#?{variable.name}=", example, re.MULTILINE), variable.name
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)


@pytest.mark.parametrize(
    "variable", [v for v in VARIABLES if v.default is not None], ids=lambda v: v.name
)
def test_a_declared_default_is_what_the_settings_use(variable: Variable) -> None:
    # Setting a variable to its documented default changes nothing.
    assert variable.default is not None
    assert Settings.from_env({variable.name: variable.default}) == Settings.from_env({})


def test_the_settings_object_defaults_are_the_environment_defaults() -> None:
    assert Settings() == Settings.from_env({})


def test_the_example_part_size_is_the_code_part_size() -> None:
    # The issue that started this: env.example said 8MiB parts while the code used 6MiB.
    assert "#RECEIVER_PART_SIZE=6MiB" in config_docs.env_example()
    assert Settings.from_env({}).part_size == 6 * 1024 * 1024
