"""Harness speed benchmarks (pytest-benchmark): table lookups and loads, the runner and store, the CLI on a
finished store. Goals (``conftest.GOALS``, printed by `tox -e bench`): >= 10,000 observations/s through the
runner and store, `tnasbench run` on a finished store <= 2 s, cached table load <= 0.5 s."""

import subprocess
import sys
from pathlib import Path

from tnasbench.benchmarks import TabularBenchmark
from tnasbench.benchmarks.tables import load_table
from tnasbench.runner import run_suite, run_trial
from tnasbench.space import nb201_space
from tnasbench.store import Store
from tnasbench.suite import load_suite
from tnasbench.testing import conformance_spec

LOOKUPS = 10_000


def test_tabular_evaluate_lookups(benchmark):
    bench = TabularBenchmark("cifar10")
    cells = nb201_space().archs[:LOOKUPS]

    def lookups():
        for arch in cells:
            bench.evaluate(arch)

    benchmark(lookups)
    benchmark.extra_info["lookups_per_call"] = LOOKUPS


def test_table_load_from_cache(benchmark):
    def load():
        load_table.cache_clear()
        return load_table("cifar100")

    assert benchmark(load).column("test@200").shape == (15625,)


def test_random_search_trial_of_100_evaluations(benchmark):
    spec = conformance_spec("random-search", {}, seed=0, evaluations=100)
    outcome = benchmark(run_trial, spec)
    assert len(outcome.observations) == 100


def test_runner_and_store_per_observation(benchmark, tmp_path):
    (tmp_path / "small.toml").write_text(
        'name = "small"\ndatasets = ["cifar10", "cifar100"]\nseeds = [0, 1, 2]\nbudgets = [{evaluations = 50}]\n'
        '[[searchers]]\nname = "random-search"\n[[searchers]]\nname = "local-search"\n'
    )
    suite = load_suite(tmp_path / "small.toml")
    counter = iter(range(10**6))

    def run():
        store = Store(tmp_path / f"s{next(counter)}.sqlite")
        run_suite(suite, store, show_progress=False)
        store.close()

    benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info["observations_per_call"] = 12 * 50


def test_run_on_a_finished_store(benchmark, tmp_path):
    """The whole CLI process (imports, suite load, store check) when every trial is already stored, model-based
    searchers included (their trial keys need their classes' versions, which load without torch)."""
    suite = tmp_path / "small.toml"
    suite.write_text('name = "small"\ndatasets = ["cifar10"]\nseeds = [0]\nbudgets = [{evaluations = 12}]\n'
                     '[[searchers]]\nname = "random-search"\n[[searchers]]\nname = "botorch-ei"\n'
                     '[[searchers]]\nname = "tnas"\nparams = {meta_steps = 2, finetune_epochs = 2}\n')  # fmt: skip
    store = tmp_path / "small.sqlite"
    command = [str(Path(sys.executable).with_name("tnasbench")), "run", str(suite), "--store", str(store), "--quiet"]
    subprocess.run(command, check=True, capture_output=True)

    def rerun():
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    assert "0 trials run, 3 already in" in benchmark.pedantic(rerun, rounds=3, iterations=1)
