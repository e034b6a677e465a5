import numpy as np
import pytest

from tnasbench.runner import run_trial
from tnasbench.space import nb201_space
from tnasbench.testing import SearcherConformance, conformance_spec


class TestRegularizedEvolution(SearcherConformance):
    @pytest.fixture
    def searcher_name(self):
        return "regularized-evolution"


def test_after_the_initial_population_every_cell_mutates_a_member():
    space = nb201_space()
    arches = [space.arch(o.arch) for o in run_trial(conformance_spec("regularized-evolution", {}, 0, 60)).observations]
    for k in range(10, 60):
        window = arches[k - 10 : k]  # the population alive when cell k was asked for
        assert any(arches[k] in member.mutations() for member in window)


def test_beats_random_search_on_average():
    def final_regret(name):
        runs = [run_trial(conformance_spec(name, {}, seed=s, evaluations=150)) for s in range(10)]
        return np.mean([r.observations[-1].regret for r in runs])

    assert final_regret("regularized-evolution") < final_regret("random-search")


def test_bad_tournament_size_fails_the_trial_clearly():
    outcome = run_trial(conformance_spec("regularized-evolution", {"tournament": 20}, 0, 5))
    assert "tournament must be in 1..population" in outcome.error
