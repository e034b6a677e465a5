"""docs/suite-format.md documents every key a suite file may hold, with the defaults the loader applies."""

from __future__ import annotations

import dataclasses
import importlib
import re
import tomllib
from pathlib import Path

import pytest

from tnasbench import suite as suite_module
from tnasbench.benchmarks.live import TrainingConfig
from tnasbench.searchers.registry import GROUP
from tnasbench.suite import parse_suite

DOC = Path(__file__).resolve().parent.parent / "docs" / "suite-format.md"
PYPROJECT = DOC.parent.parent / "pyproject.toml"
SECTIONS = {  # heading in the doc -> the keys the loader accepts there
    "Top-level keys": suite_module.TOP_KEYS,
    "Searchers": suite_module.SEARCHER_KEYS,
    "Budgets": suite_module.BUDGET_KEYS,
    "`[live]`": {f.name for f in dataclasses.fields(TrainingConfig)},
}


def _sections() -> dict[str, str]:
    parts = re.split(r"^## (.+)$", DOC.read_text(), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def table(section: str, first_column: str = "key") -> dict[str, list[str]]:
    """The table of ``section`` whose header starts with ``first_column``: first cell -> the other cells."""
    rows, inside = {}, False
    for line in _sections()[section].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if cells[:1] == [first_column]:
            inside = True
        elif inside and not cells:
            break
        elif inside and not set(cells[0]) <= {"-", " "}:
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def toml_value(cell: str):
    """A default written as one TOML literal in backticks (`0`, `"auto"`, `false`), parsed; else None."""
    found = re.fullmatch(r"`([^`]+)`(?: \(.*\))?", cell)
    if not found:
        return None
    try:
        return tomllib.loads(f"v = {found.group(1)}")["v"]
    except tomllib.TOMLDecodeError:
        return None


def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_key_the_loader_accepts_is_documented_and_no_other(section):
    assert set(table(section)) == SECTIONS[section]


def test_every_documented_key_has_a_type_a_default_and_a_meaning():
    for section in SECTIONS:
        for key, (kind, default, meaning) in table(section).items():
            assert kind and default and len(meaning) > 10, (section, key)


def test_the_smallest_suite_and_the_searcher_example_load():
    smallest, searcher = toml_blocks()[:2]
    suite = parse_suite(tomllib.loads(smallest), DOC)
    assert suite.name == "mine" and len(suite.trials()) == 3
    both = parse_suite(tomllib.loads(smallest + "\n" + searcher), DOC)
    assert [label for _, label, _ in both.searchers] == ["random-search", "botorch-ei-stock"]
    assert both.searchers[1][2] == '{"fast": false}'


def test_documented_top_level_and_searcher_defaults_are_what_the_loader_applies():
    smallest = tomllib.loads(toml_blocks()[0])
    suite = parse_suite(smallest, DOC)
    checked = 0
    for key, (_, default, _) in table("Top-level keys").items():
        value = toml_value(default)
        if value is not None and key not in smallest:
            assert getattr(suite, key) == value, key
            checked += 1
    assert checked >= 5  # seed, benchmark, description, report, noise, trial_timeout
    assert suite.objective == "val@200"  # "the benchmark's first metric"
    assert suite.searchers == (("random-search", "random-search", "{}"),)  # label = name, params = {}


def test_documented_live_defaults_are_the_training_config_defaults():
    for key, (_, default, _) in table("`[live]`").items():
        assert toml_value(default) == getattr(TrainingConfig(), key), key


def test_every_shipped_searcher_and_its_declared_params_are_listed():
    rows = {
        frozenset(re.findall(r"[a-z0-9-]+", names)): cells[0]
        for names, cells in table("Searchers", "searchers").items()
    }
    shipped = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"][GROUP]  # not the installed copy
    for name, target in shipped.items():
        params = next((cell for names, cell in rows.items() if name in names), None)
        assert params is not None, f"{name} is not in the params table"
        module, _, attribute = target.partition(":")
        declared = getattr(getattr(importlib.import_module(module), attribute), "params_type", None)
        if declared is not None:
            missing = [f.name for f in dataclasses.fields(declared) if f"`{f.name}`" not in params]
            assert not missing, (name, missing)


def test_every_documented_live_dataset_form_loads():
    row = table("Top-level keys")["datasets"][2]
    forms = re.findall(r"`((?:torchvision|folder)/[^`]+|digits|mnist|fashion-mnist)`", row.split("live benchmarks")[1])
    assert {"digits", "mnist", "fashion-mnist", "torchvision/CIFAR10", "folder/<path>"} <= set(forms)
    raw = tomllib.loads(toml_blocks()[0]) | {"benchmark": "nb201-live", "datasets": forms}
    assert parse_suite(raw, DOC).datasets == tuple(forms)
