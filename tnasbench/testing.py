"""``SearcherConformance``: the checks every searcher must pass, as a pytest mixin.

Subclass it in a test module and override the ``searcher_name`` fixture (and
``searcher_params`` if the searcher needs any)::

    class TestMySearcher(SearcherConformance):
        @pytest.fixture
        def searcher_name(self):
            return "my-searcher"
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tnasbench.benchmarks.kinds import benchmark_kind
from tnasbench.benchmarks.protocol import Query, Result
from tnasbench.runner import make_benchmark, resolve, run_trial
from tnasbench.searchers import SearchContext, Searcher, get_searcher
from tnasbench.searchers.context import build_context
from tnasbench.space import SearchSpace, get_space, nb201_space
from tnasbench.suite import Budget, TrialSpec


def conformance_spec(
    name: str, params: dict[str, Any], seed: int, evaluations: int, dataset: str = "", benchmark: str = "nb201"
) -> TrialSpec:
    """A trial of ``name`` on ``benchmark`` (its first dataset unless named), searching its default objective."""
    kind = benchmark_kind(benchmark)
    objective = kind.metrics[0]
    spec = TrialSpec(
        "conformance",
        0,
        benchmark,
        dataset or kind.datasets[0],
        objective,
        objective,
        "mean",
        name,
        name,
        json.dumps(params, sort_keys=True),
        Budget(evaluations=evaluations),
        seed,
    )
    return resolve(spec)


# The shared NB201 tables the tests read: $TNASBENCH_SHARED_DATA/nb201, else ../shared/data/nb201 beside the repo.
SHARED_DATA = Path(os.environ.get("TNASBENCH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
NB201_DIR = SHARED_DATA / "nb201"
TEST200 = NB201_DIR / "nats_tss_test_acc_200ep.csv"
EPOCH12 = NB201_DIR / "nb201_12ep_val_test_acc.csv"
TRANSNAS_ZIP = SHARED_DATA / "transnas101" / "all_benchmarks_zen.zip"
OFA_PREDICTOR = SHARED_DATA / "ofa" / "acc_predictor.pth"


def synthetic_objective(target: Any, space: SearchSpace | None = None) -> Callable[[Any], float]:
    """A toy objective with one known optimum (``target``, 100): weighted agreement of the cells' choices,
    the first dimension weighing most (NB201: edge weights 6, 5, ..., 1)."""
    space = space if space is not None else nb201_space()
    wanted = space.choices_of(target)
    weights = np.arange(len(wanted), 0, -1)

    def accuracy(arch: Any) -> float:
        agree = sum(int(w) for w, a, b in zip(weights, space.choices_of(arch), wanted, strict=True) if a == b)
        return 100.0 * agree / int(weights.sum())

    return accuracy


def anytime_regret(
    name: str,
    params: dict[str, Any],
    objective: Callable[[Any], float],
    seed: int,
    budget: int,
    space: SearchSpace | None = None,
) -> float:
    """Mean over ``budget`` evaluations of 100 − best objective so far: lower = the optimum approached faster."""
    searcher = get_searcher(name)(**params)
    searcher.setup(space if space is not None else nb201_space(), SearchContext("synthetic", "synthetic"), seed)
    best, regrets = -np.inf, []
    for _ in range(budget):
        proposal = searcher.ask()
        arch = proposal.arch if isinstance(proposal, Query) else proposal
        accuracy = objective(arch)
        best = max(best, accuracy)
        regrets.append(100.0 - best)
        searcher.tell(arch, Result(accuracy, 1.0, "synthetic", 200))
    return float(np.mean(regrets))


def searcher_with_observations(
    name: str, params: dict[str, Any], observations: int, benchmark: str = "nb201"
) -> tuple[Searcher, Callable]:
    """A searcher set up on ``benchmark``'s first dataset and told ``observations`` random cells, and a
    function telling one more."""
    spec = conformance_spec(name, params, 0, observations + 1, benchmark=benchmark)
    space = get_space(benchmark_kind(benchmark).space)
    table = make_benchmark(spec)
    searcher = get_searcher(name)(**params)
    searcher.setup(space, build_context(spec), seed=0)
    rng = np.random.default_rng(0)
    if space.enumerable:
        cells = iter(space.arch(i) for i in rng.permutation(len(space)).tolist())
    else:  # a space too large to permute: distinct uniform draws
        cells = iter(dict.fromkeys(space.sample_many(rng, 2 * observations + 100)))

    def tell_one_more():
        cell = next(cells)
        searcher.tell(cell, table.evaluate(cell).result)
        return (), {}

    for _ in range(observations):
        tell_one_more()
    return searcher, tell_one_more


class SearcherConformance:
    """Override ``searcher_name`` (and ``searcher_params``); ``benchmark_name`` picks the space the checks run on
    (NB201 by default; parametrise it to run them on every space)."""

    budget = 25

    @pytest.fixture
    def searcher_name(self) -> str:
        raise NotImplementedError("override the searcher_name fixture")

    @pytest.fixture
    def searcher_params(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def benchmark_name(self) -> str:
        return "nb201"

    def _trajectory(self, name: str, params: dict[str, Any], seed: int, benchmark_name: str) -> list[int | str]:
        """The cells evaluated: indices, or on a space too large to index the cells as the store writes them."""
        outcome = run_trial(conformance_spec(name, params, seed, self.budget, benchmark=benchmark_name))
        assert outcome.error is None, outcome.error
        return [o.arch if o.cell is None else o.cell for o in outcome.observations]

    def test_constructor_only_stores_params(self, searcher_name, searcher_params):
        searcher = get_searcher(searcher_name)(**searcher_params)
        assert searcher.params == searcher_params

    def test_seeds_reproduce_and_replicate(self, searcher_name, searcher_params, benchmark_name):
        """Every run asks cells of the space until the budget; the same seed gives the same trajectory; another
        seed is another replicate, unless the searcher declares it draws nothing at random
        (``deterministic = True``): then two seeds must give one trajectory on the noise-free table. Three runs
        check all three (the costly part of conformance on a model-based searcher)."""
        first = self._trajectory(searcher_name, searcher_params, 1, benchmark_name)
        again = self._trajectory(searcher_name, searcher_params, 1, benchmark_name)
        other = self._trajectory(searcher_name, searcher_params, 2, benchmark_name)
        space = get_space(benchmark_kind(benchmark_name).space)
        for trajectory in (first, again, other):
            assert len(trajectory) == self.budget
            if space.enumerable:
                assert all(0 <= i < len(space) for i in trajectory)
            else:
                assert all(space.contains(space.parse(text)) for text in trajectory)
        assert again == first, "the same seed gave another trajectory"
        if getattr(get_searcher(searcher_name), "deterministic", False) and not searcher_params:
            assert other == first, "a searcher declared deterministic gave another trajectory for another seed"
        else:
            assert other != first, "another seed gave the same trajectory: it is not another replicate"

    def test_context_never_holds_the_target(self, searcher_name, searcher_params, benchmark_name):
        kind = benchmark_kind(benchmark_name)
        for dataset in kind.datasets:
            context = build_context(conformance_spec(searcher_name, searcher_params, 0, 1, dataset, benchmark_name))
            assert dataset not in {t.dataset for t in context.meta_tables}
            assert len(context.meta_tables) == len(kind.datasets) - 1

    def test_ask_returns_cells_of_the_space(self, searcher_name, searcher_params, benchmark_name):
        spec = conformance_spec(searcher_name, searcher_params, 0, 1, benchmark=benchmark_name)
        space = get_space(benchmark_kind(benchmark_name).space)
        searcher = get_searcher(searcher_name)(**searcher_params)
        searcher.setup(space, build_context(spec), seed=0)
        proposal = searcher.ask()
        assert space.contains(proposal.arch if isinstance(proposal, Query) else proposal)
