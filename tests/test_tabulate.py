"""`tnasbench tabulate`: harness-built tables of live trainings, resumable, exported with an image sample."""

import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from tnasbench.errors import TnasbenchError
from tnasbench.searchers.sample import class_sample
from tnasbench.space import nb201_space
from tnasbench.store import Store
from tnasbench.tabulate import read_table

RECIPE = """name = "tab"
benchmark = "nb201-live"
datasets = ["digits"]
objective = "val"
report = "test"
seeds = [0]
budgets = [{{evaluations = {cells}}}]
[live]
epochs = 1
channels = 4
[[searchers]]
name = "tabulate-sample"
params = {{sample_seed = 3}}
"""


def tabulate(tmp_path, *extra):
    command = [sys.executable, "-m", "tnasbench.cli", "tabulate", "recipe.toml", "--out", "tables", "--quiet", *extra]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)


def cached_runs(home) -> dict[str, float]:
    with sqlite3.connect(home / "live-cache.sqlite") as db:
        return dict(db.execute("SELECT key, seconds FROM runs"))


def test_the_sample_is_one_cell_per_isomorphism_class_and_its_seed_fixes_it():
    space = nb201_space()
    sample = class_sample(space, 3)
    assert len(sample) == len(set(space.canonical_ids.tolist())) == 6466
    assert len(set(space.canonical_ids[sample].tolist())) == len(sample)
    assert np.array_equal(sample, class_sample(space, 3))
    assert not np.array_equal(sample[:20], class_sample(space, 4)[:20])


def test_tabulate_exports_the_stored_trainings_with_images_and_a_rerun_trains_nothing(tmp_path, fresh_home):
    (tmp_path / "recipe.toml").write_text(RECIPE.format(cells=3))
    first = tabulate(tmp_path)
    assert first.returncode == 0, first.stderr
    arrays, manifest = read_table(tmp_path / "tables" / "digits.npz")
    observations = Store(tmp_path / "results" / "tab.sqlite", readonly=True).observations()
    assert arrays["index"].tolist() == observations["arch"].tolist() == class_sample(nb201_space(), 3)[:3].tolist()
    assert np.allclose(arrays["val"], observations["objective"])
    assert np.allclose(arrays["test"], observations["reported"])
    assert arrays["images"].shape == (200, 1, 8, 8) and sorted(set(arrays["labels"].tolist())) == list(range(10))
    assert manifest["dataset"] == "digits" and manifest["training"]["epochs"] == 1
    assert manifest["sample"] == {"sample_seed": 3, "cells": 3}
    before = cached_runs(fresh_home)
    again = tabulate(tmp_path)
    assert again.returncode == 0 and "0 trials run, 1 already in" in again.stdout
    assert cached_runs(fresh_home) == before


def test_a_killed_tabulate_resumes_and_retrains_nothing_it_finished(tmp_path, fresh_home):
    (tmp_path / "recipe.toml").write_text(RECIPE.format(cells=8))
    command = [sys.executable, "-m", "tnasbench.cli", "tabulate", "recipe.toml", "--out", "tables", "--quiet"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        (fresh_home / "live-cache.sqlite").is_file() and len(cached_runs(fresh_home)) >= 2
    ):
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = cached_runs(fresh_home)
    assert 2 <= len(finished) < 8, "the run must be killed mid-way"
    assert not (tmp_path / "tables" / "digits.npz").exists()
    resumed = tabulate(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    after = cached_runs(fresh_home)
    assert len(after) == 8 and all(after[key] == seconds for key, seconds in finished.items())  # none retrained
    assert len(read_table(tmp_path / "tables" / "digits.npz")[0]["index"]) == 8


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('benchmark = "nb201-live"', 'benchmark = "nb201"'), "has none: use benchmark"),
        (('name = "tabulate-sample"\nparams = {sample_seed = 3}', 'name = "random-search"'), "runs only the tabulate"),
        (("seeds = [0]", "seeds = [0, 1]"), "one seed and one budget"),
        (("{evaluations = 3}", "{evaluations = 7000}"), "6,466 isomorphism classes, so a recipe trains at most"),
    ],
)
def test_a_recipe_that_is_not_one_is_one_clear_line(tmp_path, change, message):
    text = RECIPE.format(cells=3).replace(*change)
    if 'nb201"' in change[1]:
        text = text.replace('objective = "val"', 'objective = "val@200"').replace('report = "test"', 'report = "auto"')
        text = text.replace("[live]\nepochs = 1\nchannels = 4\n", "").replace('"digits"', '"cifar10"')
    (tmp_path / "recipe.toml").write_text(text)
    result = tabulate(tmp_path)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists() and not (tmp_path / "tables").exists()


def test_a_file_that_is_not_a_table_is_one_clear_error(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    np.save(tmp_path / "array.npy", np.arange(3))
    np.savez(tmp_path / "bad.npz", manifest=np.array("not json"))
    np.savez(tmp_path / "list.npz", manifest=np.array("[1, 2]"))
    (tmp_path / "text.npz").write_text("hello")
    for name in ("other.npz", "array.npy", "bad.npz", "list.npz", "text.npz"):
        with pytest.raises(TnasbenchError, match="is not a tabulated table"):
            read_table(tmp_path / name)
