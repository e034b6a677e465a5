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
from typing import Any

import pytest

from tnasbench.runner import resolve, run_trial
from tnasbench.searchers import get_searcher
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
        assert self._trajectory(searcher_name, searcher_params, seed=1) != self._trajectory(
            searcher_name, searcher_params, seed=2
        )

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
