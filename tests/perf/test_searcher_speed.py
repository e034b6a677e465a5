"""Per-iteration time of model-based searchers at 10, 50 and 100 observations (pytest-benchmark).

Goals (reported by `tox -e bench`, not asserted): TNAS <= 0.5 s per BO iteration at 50
observations; cached TNAS meta-training re-use <= 1 s.
"""

import numpy as np
import pytest

from tnasbench.benchmarks.protocol import Result
from tnasbench.benchmarks.tables import load_table
from tnasbench.searchers import get_searcher
from tnasbench.searchers.context import build_context
from tnasbench.space import nb201_space
from tnasbench.testing import conformance_spec

# per-iteration cost does not depend on how long meta-training ran, so benchmarks train briefly
SEARCHERS = {"tnas": {"meta_steps": 50}}


def searcher_with_observations(name: str, params: dict, observations: int):
    """A searcher set up on CIFAR-10 and told ``observations`` random cells, ready to ask."""
    space = nb201_space()
    searcher = get_searcher(name)(**params)
    searcher.setup(space, build_context(conformance_spec(name, params, 0, observations + 1)), seed=0)
    accuracies = load_table("cifar10").column("val@200")
    for index in np.random.default_rng(0).choice(len(space), observations, replace=False):
        searcher.tell(space.arch(int(index)), Result(float(accuracies[index]), 1.0, "val@200", 200))
    return searcher


@pytest.mark.parametrize("observations", [10, 50, 100])
@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_ask_after_observations(benchmark, name, observations):
    searcher = searcher_with_observations(name, SEARCHERS[name], observations)
    arch = benchmark.pedantic(searcher.ask, rounds=5, iterations=1)
    assert arch in nb201_space().archs


def test_tnas_setup_with_cached_meta_training(benchmark):
    params = SEARCHERS["tnas"]
    context = build_context(conformance_spec("tnas", params, 0, 5))
    searcher_with_observations("tnas", params, 0)  # trains once, fills the cache

    def setup():
        get_searcher("tnas")(**params).setup(nb201_space(), context, seed=0)

    benchmark.pedantic(setup, rounds=3, iterations=1)
