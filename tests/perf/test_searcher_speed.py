"""Per-iteration time of model-based searchers at 10, 50 and 100 observations (pytest-benchmark).

Goals (reported by `tox -e bench`, not asserted): TNAS <= 0.5 s per BO iteration at 50
observations; cached TNAS meta-training re-use <= 1 s; BoTorch EI <= 0.3 s at 50 observations
and >= 3x faster than stock BoTorch (`botorch-ei-stock`), measured in the same run.
"""

import pytest

from tnasbench.searchers import get_searcher
from tnasbench.searchers.context import build_context
from tnasbench.space import nb201_space
from tnasbench.testing import conformance_spec, searcher_with_observations

# per-iteration cost does not depend on how long meta-training ran, so benchmarks train briefly
SEARCHERS = {
    "tnas": {"meta_steps": 50},
    "botorch-ei": {},
    "botorch-ei-stock": {"fast": False},
    "botorch-ucb": {},
    "bananas": {},
    "nasbowl": {},
    "hebo": {},
    "regularized-evolution": {},
}


@pytest.mark.parametrize("observations", [10, 50, 100])
@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_ask_after_observations(benchmark, name, observations):
    """One iteration as in a run: a new observation arrives, then the searcher asks (rounds at n..n+4)."""
    if name == "hebo":
        pytest.importorskip("hebo", reason="HEBO is an extra: pip install --no-deps hebo==0.3.6")
    searcher, tell_one_more = searcher_with_observations(name.removesuffix("-stock"), SEARCHERS[name], observations)
    searcher.ask()  # a run's previous iteration, so anything a searcher keeps between iterations exists
    arch = benchmark.pedantic(searcher.ask, setup=tell_one_more, rounds=5, iterations=1)
    assert arch in nb201_space().archs


def test_tnas_setup_with_cached_meta_training(benchmark):
    params = SEARCHERS["tnas"]
    context = build_context(conformance_spec("tnas", params, 0, 5))
    searcher_with_observations("tnas", params, 0)  # trains once and fills the cache

    def setup():
        get_searcher("tnas")(**params).setup(nb201_space(), context, seed=0)

    benchmark.pedantic(setup, rounds=3, iterations=1)
