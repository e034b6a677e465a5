import numpy as np
import pytest

from tnasbench.runner import run_trial
from tnasbench.searchers import SearchContext, get_searcher, searcher_names
from tnasbench.searchers.local_search import LocalSearch
from tnasbench.searchers.protocol import MetaTable
from tnasbench.searchers.random_search import RandomSearch
from tnasbench.space import nb201_space
from tnasbench.testing import conformance_spec


def test_builtins_are_registered_by_entry_point():
    assert {"random-search", "local-search"} <= set(searcher_names())
    assert get_searcher("random-search") is RandomSearch


def test_random_search_never_repeats_a_cell():
    outcome = run_trial(conformance_spec("random-search", {}, seed=0, evaluations=500))
    arches = [o.arch for o in outcome.observations]
    assert len(set(arches)) == 500


def test_local_search_moves_to_improving_neighbours():
    space = nb201_space()
    outcome = run_trial(conformance_spec("local-search", {}, seed=0, evaluations=60))
    arches = [space.arch(o.arch) for o in outcome.observations]
    # after the first cell, the next 24 proposals are exactly its neighbourhood
    assert set(arches[1:25]) == set(arches[0].mutations())


def test_local_search_beats_random_search_on_average():
    def final_regret(name):
        return np.mean(
            [run_trial(conformance_spec(name, {}, seed=s, evaluations=150)).observations[-1].regret for s in range(10)]
        )

    assert final_regret("local-search") < final_regret("random-search")


def test_context_refuses_the_target_table():
    table = MetaTable("cifar10", "val@200", np.zeros(15625))
    with pytest.raises(ValueError, match="must not hold that dataset's own table"):
        SearchContext("cifar10", "val@200", (table,))


def test_unknown_searcher_suggests_a_name():
    from tnasbench.errors import TnasbenchError

    with pytest.raises(TnasbenchError, match="did you mean 'local-search'"):
        get_searcher("local-serch")


def test_local_search_tell_feeds_its_walk():
    searcher = LocalSearch()
    searcher.setup(nb201_space(), SearchContext("cifar10", "val@200"), seed=0)
    first = searcher.ask()
    from tnasbench.benchmarks.protocol import Result

    searcher.tell(first, Result(50.0, 1.0, "val@200", 200))
    assert searcher.ask() in first.mutations()
