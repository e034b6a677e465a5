"""Speed benchmarks (pytest-benchmark). Goals, reported by `tox -e bench`, not asserted:
tabular evaluate >= 100,000 lookups/s; cached table load <= 0.5 s;
runner + store <= 1 ms per observation; a 100-evaluation random-search trial <= 0.5 s."""

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
