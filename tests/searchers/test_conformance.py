"""Every built-in searcher passes the conformance suite that plugin authors reuse."""

import numpy as np
import pytest

from tnasbench.searchers import registry
from tnasbench.searchers.random_search import RandomSearch
from tnasbench.testing import SearcherConformance


class TestRandomSearch(SearcherConformance):
    @pytest.fixture
    def searcher_name(self):
        return "random-search"


class TestLocalSearch(SearcherConformance):
    @pytest.fixture
    def searcher_name(self):
        return "local-search"


class SeedIgnoringSearch(RandomSearch):
    """Random search that runs every trial with seed 0: its seeds are one replicate."""

    name = "seed-ignoring-search"

    def setup(self, space, context, seed):
        super().setup(space, context, 0)


class UnseededSearch(RandomSearch):
    """Random search that draws from fresh entropy: a seed does not reproduce its run."""

    name = "unseeded-search"

    def setup(self, space, context, seed):
        super().setup(space, context, int(np.random.SeedSequence().entropy % 2**32))


@pytest.mark.parametrize(
    ("searcher", "message"),
    [(SeedIgnoringSearch, "not another replicate"), (UnseededSearch, "the same seed gave another trajectory")],
)
def test_the_seed_check_fails_a_searcher_whose_seeds_do_not_replicate_or_reproduce(monkeypatch, searcher, message):
    monkeypatch.setitem(registry._runtime, searcher.name, searcher)
    checks = SearcherConformance()
    checks.budget = 5
    with pytest.raises(AssertionError, match=message):
        checks.test_seeds_reproduce_and_replicate(searcher.name, {}, "nb201")
