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

from tnasbench.benchmarks.protocol import Query, Result
from tnasbench.benchmarks.tables import load_table
from tnasbench.runner import resolve, run_trial
from tnasbench.searchers import SearchContext, Searcher, get_searcher
from tnasbench.searchers.context import build_context
from tnasbench.space import Arch, nb201_space
from tnasbench.suite import Budget, TrialSpec


def conformance_spec(
    name: str, params: dict[str, Any], seed: int, evaluations: int, dataset: str = "cifar10"
) -> TrialSpec:
    spec = TrialSpec(
        "conformance",
        0,
        "nb201",
        dataset,
        "val@200",
        "val@200",
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

EDGE_WEIGHTS = (6, 5, 4, 3, 2, 1)


def synthetic_objective(target: Arch) -> Callable[[Arch], float]:
    """A toy objective with one known optimum (``target``, 100): weighted agreement of the six edges."""

    def accuracy(arch: Arch) -> float:
        agree = sum(w for w, a, b in zip(EDGE_WEIGHTS, arch.ops, target.ops, strict=True) if a == b)
        return 100.0 * agree / sum(EDGE_WEIGHTS)

    return accuracy


def anytime_regret(
    name: str, params: dict[str, Any], objective: Callable[[Arch], float], seed: int, budget: int
) -> float:
    """Mean over ``budget`` evaluations of 100 − best objective so far: lower = the optimum approached faster."""
    searcher = get_searcher(name)(**params)
    searcher.setup(nb201_space(), SearchContext("synthetic", "synthetic"), seed)
    best, regrets = -np.inf, []
    for _ in range(budget):
        proposal = searcher.ask()
        arch = proposal.arch if isinstance(proposal, Query) else proposal
        accuracy = objective(arch)
        best = max(best, accuracy)
        regrets.append(100.0 - best)
        searcher.tell(arch, Result(accuracy, 1.0, "synthetic", 200))
    return float(np.mean(regrets))


def searcher_with_observations(name: str, params: dict[str, Any], observations: int) -> tuple[Searcher, Callable]:
    """A searcher set up on CIFAR-10 and told ``observations`` random cells, and a function telling one more."""
    space = nb201_space()
    searcher = get_searcher(name)(**params)
    searcher.setup(space, build_context(conformance_spec(name, params, 0, observations + 1)), seed=0)
    accuracies = load_table("cifar10").column("val@200")
    cells = iter(np.random.default_rng(0).permutation(len(space)).tolist())

    def tell_one_more():
        index = next(cells)
        searcher.tell(space.arch(index), Result(float(accuracies[index]), 1.0, "val@200", 200))
        return (), {}

    for _ in range(observations):
        tell_one_more()
    return searcher, tell_one_more


class SearcherConformance:
    budget = 25

    @pytest.fixture
    def searcher_name(self) -> str:
        raise NotImplementedError("override the searcher_name fixture")

    @pytest.fixture
    def searcher_params(self) -> dict[str, Any]:
        return {}

    def _trajectory(self, name: str, params: dict[str, Any], seed: int) -> list[int]:
        outcome = run_trial(conformance_spec(name, params, seed, self.budget))
        assert outcome.error is None, outcome.error
        return [o.arch for o in outcome.observations]

    def test_constructor_only_stores_params(self, searcher_name, searcher_params):
        searcher = get_searcher(searcher_name)(**searcher_params)
        assert searcher.params == searcher_params

    def test_asks_valid_cells_until_the_budget(self, searcher_name, searcher_params):
        trajectory = self._trajectory(searcher_name, searcher_params, seed=0)
        assert len(trajectory) == self.budget
        assert all(0 <= i < len(nb201_space()) for i in trajectory)

    def test_same_seed_same_trajectory(self, searcher_name, searcher_params):
        first = self._trajectory(searcher_name, searcher_params, seed=1)
        assert self._trajectory(searcher_name, searcher_params, seed=1) == first

    def test_different_seed_different_trajectory(self, searcher_name, searcher_params):
        """Another seed is another replicate, unless the searcher declares it draws nothing at random
        (``deterministic = True``): then two seeds must give one trajectory on the noise-free table."""
        first = self._trajectory(searcher_name, searcher_params, seed=1)
        second = self._trajectory(searcher_name, searcher_params, seed=2)
        if getattr(get_searcher(searcher_name), "deterministic", False) and not searcher_params:
            assert first == second
        else:
            assert first != second

    def test_context_never_holds_the_target(self, searcher_name, searcher_params):
        for dataset in ("cifar10", "cifar100", "imagenet16-120"):
            context = build_context(conformance_spec(searcher_name, searcher_params, 0, 1, dataset))
            assert dataset not in {t.dataset for t in context.meta_tables}
            assert len(context.meta_tables) == 2

    def test_ask_returns_arch_objects(self, searcher_name, searcher_params):
        spec = conformance_spec(searcher_name, searcher_params, 0, 1)
        searcher = get_searcher(searcher_name)(**searcher_params)
        searcher.setup(nb201_space(), build_context(spec), seed=0)
        assert isinstance(searcher.ask(), Arch)
