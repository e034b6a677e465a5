"""Which metric a searcher sees, which one a report scores, and at which fidelity."""

import json

import numpy as np
import pytest

from tnasbench.benchmarks.tables import load_table
from tnasbench.runner import resolve, run_trial
from tnasbench.searchers import Searcher, register
from tnasbench.space import nb201_space
from tnasbench.suite import Budget, TrialSpec

SEEN: list = []


@register
class Recorder(Searcher):
    """Random cells; keeps every Result it is told, to check what searchers receive."""

    name = "test-recorder"

    def setup(self, space, context, seed):
        self.space, self.rng = space, np.random.default_rng(seed)

    def ask(self):
        return self.space.sample(self.rng)

    def tell(self, arch, result):
        SEEN.append((self.space.index(arch), result))


def spec(searcher="test-recorder", objective="val@200", report="auto", noise="mean", seed=0, params=None, n=40):
    return resolve(
        TrialSpec(
            "metrics",
            0,
            "nb201",
            "cifar10",
            objective,
            report,
            noise,
            searcher,
            searcher,
            json.dumps(params or {}),
            Budget(evaluations=n),
            seed,
        )
    )


def test_a_searcher_on_validation_never_receives_test_accuracy():
    SEEN.clear()
    outcome = run_trial(spec())
    assert outcome.error is None and len(SEEN) == 40
    val, test = load_table("cifar10").column("val@200"), load_table("cifar10").column("test@200")
    for index, result in SEEN:
        assert result.metric == "val@200"
        assert result.accuracy == val[index] != test[index]
    # ...while the store records the test accuracy of the same cells for the report
    assert [o.reported for o in outcome.observations] == [test[i] for i, _ in SEEN]


def test_switching_the_objective_changes_the_trajectory_not_the_report():
    # local search's walk depends on the values it sees (random search's would not)
    on_val = resolve(spec("local-search", objective="val@200", report="test@200", n=150))
    on_test = resolve(spec("local-search", objective="test@200", report="test@200", n=150))
    assert on_val.report == on_test.report == "test@200"
    a, b = run_trial(on_val).observations, run_trial(on_test).observations
    assert [o.arch for o in a] != [o.arch for o in b]
    test = load_table("cifar10").column("test@200")
    assert all(o.reported == test[o.arch] for o in a + b)
    assert a[0].regret + a[0].reported == pytest.approx(test.max())


def test_regret_is_measured_from_the_optimum_of_the_report_metric():
    outcome = run_trial(spec(objective="val@12", report="test@200"))
    test = load_table("cifar10").column("test@200")
    first = outcome.observations[0]
    assert first.regret == pytest.approx(test.max() - test[first.arch])


def test_twelve_epoch_queries_cost_less_and_read_the_12_epoch_table():
    table = load_table("cifar10")
    for searcher in ("random-search", "local-search"):
        outcome = run_trial(spec(searcher, params={"epochs": 12}))
        assert outcome.error is None
        for o in outcome.observations:
            assert o.epochs == 12
            assert o.objective == table.column("val@12")[o.arch]
            assert o.cost_seconds == pytest.approx(table.column("train_time@200")[o.arch] * 12 / 200)
        full = run_trial(spec(searcher))
        assert sum(o.cost_seconds for o in outcome.observations) < sum(o.cost_seconds for o in full.observations)


def test_an_unknown_fidelity_fails_the_trial_clearly():
    outcome = run_trial(spec("random-search", params={"epochs": 50}))
    assert "tables for (200, 12) epochs, not 50" in outcome.error


def test_higher_fidelity_evaluations_take_the_incumbent():
    from tnasbench.benchmarks.protocol import Query

    @register
    class Mixed(Searcher):
        name = "test-mixed"

        def setup(self, space, context, seed):
            self.space, self.k = space, 0

        def ask(self):
            self.k += 1
            # first the 12-epoch optimum-ish cell, then a mediocre cell at full fidelity
            return Query(self.space.arch(6111), 12) if self.k == 1 else self.space.arch(0)

        def tell(self, arch, result):
            pass

    obs = run_trial(spec("test-mixed", n=2)).observations
    test = load_table("cifar10").column("test@200")
    assert obs[1].regret == pytest.approx(test.max() - test[0])  # the 200-epoch cell wins despite a lower value


def test_sampled_seed_trials_are_reproducible_and_differ_across_seeds():
    one = [o.objective for o in run_trial(spec("random-search", noise="sampled-seed", seed=1)).observations]
    assert one == [o.objective for o in run_trial(spec("random-search", noise="sampled-seed", seed=1)).observations]
    table = load_table("cifar10")
    arches = [o.arch for o in run_trial(spec("random-search", noise="sampled-seed", seed=1)).observations]
    for index, value in zip(arches, one, strict=True):
        seeds = table.val_seeds[index]
        assert value in seeds[~np.isnan(seeds)]
    # same cells, different repetition seed: the benchmark draws other training seeds
    other = resolve(spec("random-search", noise="sampled-seed", seed=2))
    from tnasbench.runner import make_benchmark

    bench_a, bench_b = make_benchmark(spec("random-search", noise="sampled-seed", seed=1)), make_benchmark(other)
    draws = [
        (
            bench_a.evaluate(nb201_space().arch(i)).result.accuracy,
            bench_b.evaluate(nb201_space().arch(i)).result.accuracy,
        )
        for i in range(50)
    ]
    assert any(a != b for a, b in draws)


def test_two_seed_cells_draw_only_their_two_seeds():
    from tnasbench.benchmarks import TabularBenchmark

    seeds = load_table("cifar10").val_seeds
    two_seed = int(np.flatnonzero(np.isnan(seeds[:, 2]))[0])
    bench = TabularBenchmark("cifar10", noise="sampled-seed", seed=0)
    draws = {bench.evaluate(nb201_space().arch(two_seed)).result.accuracy for _ in range(40)}
    assert draws == set(seeds[two_seed, :2].tolist())


CHEAP = ("random-search", "local-search", "regularized-evolution")


@pytest.mark.parametrize(
    "which",
    [
        "cheap",  # what a trial records does not depend on the searcher: seconds
        pytest.param("all", marks=pytest.mark.slow),  # ~2 min: every searcher of the suite, TNAS meta-training
    ],
)
def test_store_records_objective_and_report_metric_per_trial(tmp_path, which):
    from tnasbench.runner import run_suite
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    suite = load_suite(__import__("pathlib").Path(__file__).resolve().parent.parent / "suites" / "nb201-paper.toml")
    assert suite.objective == suite.report == "test@200"
    searchers = tuple(s for s in suite.searchers if which == "all" or s[0] in CHEAP)
    assert len(searchers) >= len(CHEAP)
    store = Store(tmp_path / "s.sqlite")
    small = suite.__class__(
        **{
            **suite.__dict__,
            "seeds": (333,),
            "budgets": (Budget(evaluations=5),),
            "datasets": ("cifar10",),
            "searchers": searchers,
        }
    )
    run_suite(small, store, show_progress=False)
    assert set(store.trials()["status"]) == {"done"}
    obs = store.observations()
    assert obs.groupby("searcher").size().to_dict() == {label: 5 for _, label, _ in searchers}
    assert set(obs["objective_metric"]) == {"test@200"} and set(obs["report_metric"]) == {"test@200"}
    assert (obs["objective"] == obs["reported"]).all()
