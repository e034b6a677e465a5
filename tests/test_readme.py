"""README's "Add a searcher" walk-through, as written: its marked snippets are saved to a folder and run there."""

from __future__ import annotations

import importlib
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tnasbench.cli import main
from tnasbench.runner import run_suite
from tnasbench.searchers import Searcher
from tnasbench.searchers.registry import GROUP
from tnasbench.store import Store
from tnasbench.suite import parse_suite
from tnasbench.testing import SearcherConformance

README = Path(__file__).resolve().parent.parent / "README.md"
# a snippet is the fenced block right after <!-- readme-test: FILE -->; FILE is what the reader saves it as
MARKED = re.compile(r"<!-- readme-test: (\S+) -->\n```\w*\n(.*?)```", re.DOTALL)


def snippets() -> dict[str, str]:
    return dict(MARKED.findall(README.read_text()))


@pytest.fixture
def walkthrough(tmp_path, monkeypatch):
    """An empty folder holding the README's snippets, made the current one as a reader's would be."""
    for name, text in snippets().items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # --import puts the folder on the path
    yield tmp_path
    sys.modules.pop("my_searcher", None)  # the next test imports its own copy


def test_the_walkthrough_marks_its_four_snippets():
    assert set(snippets()) == {"my_searcher.py", "test_my_searcher.py", "compare.sh", "pyproject.toml"}


def test_the_conformance_snippet_passes_on_the_searcher_snippet(walkthrough):
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "test_my_searcher.py", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    checks = [name for name in vars(SearcherConformance) if name.startswith("test_")]
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(checks)} passed" in run.stdout, run.stdout


def test_the_compare_command_runs_only_the_new_searcher_and_reports_it(walkthrough):
    stand_in = {  # the quickstart's store, two small trials of it
        "name": "quickstart",
        "datasets": ["cifar10"],
        "seeds": [0, 1],
        "budgets": [{"evaluations": 15}],
        "searchers": [{"name": "random-search"}],
    }
    store = Store(walkthrough / "results" / "quickstart.sqlite")
    run_suite(parse_suite(stand_in, walkthrough / "quickstart.toml"), store, show_progress=False)
    store.close()
    commands = [shlex.split(line) for line in snippets()["compare.sh"].splitlines() if line.strip()]
    assert commands and all(argv[0] == "tnasbench" for argv in commands)
    for argv in commands:
        assert main(argv[1:]) == 0, argv

    trials = Store(walkthrough / "results" / "quickstart.sqlite", readonly=True).trials()
    assert sorted(trials["label"]) == ["greedy-mutation"] * 2 + ["random-search"] * 2
    assert set(trials["status"]) == {"done"}
    observations = Store(walkthrough / "results" / "quickstart.sqlite", readonly=True).observations()
    assert (observations.groupby(["searcher", "seed"]).size() == 15).all()
    report = walkthrough / "results" / "with-mine" / "report.md"
    assert "greedy-mutation" in report.read_text()


def test_the_entry_point_snippet_names_the_searcher_class(walkthrough):
    groups = tomllib.loads(snippets()["pyproject.toml"])["project"]["entry-points"]
    assert list(groups) == [GROUP]
    ((name, target),) = groups[GROUP].items()
    module, _, attribute = target.partition(":")
    sys.path.insert(0, str(walkthrough))
    cls = getattr(importlib.import_module(module), attribute)
    assert issubclass(cls, Searcher) and cls.name == name
