"""BANANAS, NAS-BOWL and HEBO: conformance, a synthetic optimum found faster than random search, errors."""

import ast
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from grakel.kernels import VertexHistogram, WeisfeilerLehman

from baselines.nasbowl import cell_graph
from tnasbench.benchmarks.protocol import Result
from tnasbench.runner import run_trial
from tnasbench.searchers import SearchContext, get_searcher
from tnasbench.space import Arch, get_space, nb201_space
from tnasbench.testing import SearcherConformance, anytime_regret, conformance_spec, synthetic_objective


class TestBananas(SearcherConformance):
    budget = 12  # ten random cells, then two ensemble fits

    @pytest.fixture
    def searcher_name(self):
        return "bananas"


class TestNasbowl(SearcherConformance):
    budget = 20

    @pytest.fixture
    def searcher_name(self):
        return "nasbowl"


class TestHebo(SearcherConformance):
    budget = 11  # ten initial suggestions, then one from HEBO's model (~4 s each)

    @pytest.fixture(autouse=True)
    def _needs_hebo(self):
        pytest.importorskip("hebo", reason="HEBO is an extra: pip install --no-deps hebo==0.3.6 (see README)")

    @pytest.fixture
    def searcher_name(self):
        return "hebo"


class TestHeboStock(TestHebo):
    """Stock HEBO's genetic search (pymoo seeded from numpy's generator): the same seed, the same trajectory."""

    @pytest.fixture
    def searcher_params(self):
        return {"optimizer": "evolution"}


def _mean_regret(name, objective, budget, seeds=4, **params):
    """Anytime regret (mean of best-so-far regret over the budget), averaged over seeds."""
    return np.mean([anytime_regret(name, params, objective, seed, budget) for seed in range(seeds)])


def _proposed_values(name, objective, seed, budget, **params):
    """The objective of every cell ``name`` asks for, in order."""
    searcher = get_searcher(name)(**params)
    searcher.setup(nb201_space(), SearchContext("synthetic", "synthetic"), seed)
    values = []
    for _ in range(budget):
        arch = searcher.ask()
        values.append(objective(arch))
        searcher.tell(arch, Result(values[-1], 1.0, "synthetic", 200))
    return values


@pytest.mark.parametrize(
    ("name", "budget", "seeds", "ratio"),
    [
        ("bananas", 20, 3, 0.8),  # ten random cells, then ten model steps; measured 0.72
        ("nasbowl", 50, 4, 0.85),
    ],
)
def test_finds_a_synthetic_optimum_faster_than_random_search(name, budget, seeds, ratio):
    objective = synthetic_objective(Arch((3, 1, 2, 4, 0, 3)))
    assert _mean_regret(name, objective, budget, seeds) < ratio * _mean_regret(
        "random-search", objective, budget, seeds
    )


@pytest.mark.slow  # ~1.5 min: 160 ensemble fits; the test above runs 30 of them
def test_bananas_finds_a_synthetic_optimum_faster_than_random_search_at_50_evaluations():
    objective = synthetic_objective(Arch((3, 1, 2, 4, 0, 3)))
    assert _mean_regret("bananas", objective, 50) < 0.85 * _mean_regret("random-search", objective, 50)


def test_hebo_model_proposes_far_better_cells_than_random_on_a_synthetic_objective():
    """HEBO's model (its default finite optimiser: the same model and acquisitions, ~5x cheaper per step than the
    stock genetic search, which the slow test below runs) after ten random cells. A uniformly random cell scores
    20 on average (each edge matches the target with probability 1/5), standard deviation 18: 28 random
    cells average above 33 with probability below 0.01%. The first model steps still explore (the Pareto
    pick), so steps 14-20 are scored; measured over 8 seeds: 47 (stock HEBO: 48)."""
    pytest.importorskip("hebo", reason="HEBO is an extra: pip install --no-deps hebo==0.3.6 (see README)")
    objective = synthetic_objective(Arch((3, 1, 2, 4, 0, 3)))
    model = [v for seed in range(4) for v in _proposed_values("hebo", objective, seed, 20, optimizer="finite")[13:]]
    assert np.mean(model) > 33


@pytest.mark.slow  # ~3 min: 45 HEBO model steps; the test above runs 6
def test_stock_hebo_runs_its_model_and_beats_random_search_on_a_synthetic_objective():
    pytest.importorskip("hebo", reason="HEBO is an extra: pip install --no-deps hebo==0.3.6 (see README)")
    objective = synthetic_objective(Arch((3, 1, 2, 4, 0, 3)))
    stock = _mean_regret("hebo", objective, 25, seeds=3, optimizer="evolution")
    assert stock < _mean_regret("random-search", objective, 25, seeds=3)


def test_hebo_refuses_a_non_finite_accuracy_with_one_line():
    pytest.importorskip("hebo", reason="HEBO is an extra")
    outcome = run_trial(conformance_spec("hebo", {}, 0, 3))
    assert outcome.error is None
    searcher = get_searcher("hebo")()
    searcher.setup(nb201_space(), SearchContext("synthetic", "synthetic"), 0)
    arch = searcher.ask()
    with pytest.raises(RuntimeError, match="HEBO cannot use the non-finite accuracy nan"):
        searcher.tell(arch, Result(float("nan"), 1.0, "val@200", 200))


def test_hebo_internal_failure_becomes_one_clear_line():
    pytest.importorskip("hebo", reason="HEBO is an extra")
    searcher = get_searcher("hebo")()
    searcher.setup(nb201_space(), SearchContext("synthetic", "synthetic"), 0)
    searcher._optimizer.space = None  # HEBO's own code now fails inside suggest()
    with pytest.raises(RuntimeError, match=r"^HEBO failed to suggest at step 1: AttributeError"):
        searcher.ask()


def test_hebo_keeps_its_default_initial_design():
    outcome = run_trial(conformance_spec("hebo", {"initial": 4}, 0, 3))
    assert "initial must be at least 7" in outcome.error


def test_nasbowl_graphs_give_grakels_wl_kernel_a_meaningful_similarity():
    space = nb201_space()
    cell = space.arch(123)
    neighbour, far = cell.mutations()[0], Arch(tuple((op + 2) % 5 for op in cell.ops))
    kernel = WeisfeilerLehman(n_iter=2, normalize=True, base_graph_kernel=VertexHistogram)
    gram = kernel.fit_transform([cell_graph(nb201_space(), a) for a in (cell, neighbour, far)])
    assert gram[0, 0] == pytest.approx(1.0)
    assert gram[0, 1] > gram[0, 2]  # one changed edge is more alike than six


def test_nasbowl_chooses_its_wl_depth_by_marginal_likelihood():
    searcher = get_searcher("nasbowl")()
    outcome = run_trial(conformance_spec("nasbowl", {}, 0, 12))
    assert outcome.error is None
    searcher.setup(nb201_space(), SearchContext("synthetic", "synthetic"), 0)
    objective = synthetic_objective(Arch((3, 1, 2, 4, 0, 3)))
    for _ in range(12):
        arch = searcher.ask()
        searcher.tell(arch, Result(objective(arch), 1.0, "synthetic", 200))
    assert searcher.chosen[0] in (1, 2, 3) and searcher.chosen[1] in (1e-3, 1e-2, 1e-1)


def test_bananas_bad_acquisition_is_a_clear_error():
    outcome = run_trial(conformance_spec("bananas", {"acquisition": "ei"}, 0, 3))
    assert "acquisition must be 'its' or 'ucb'" in outcome.error


def test_hebo_finite_optimiser_returns_exactly_the_pareto_set_of_unevaluated_cells():
    pytest.importorskip("hebo", reason="HEBO is an extra")
    from hebo.design_space.design_space import DesignSpace

    from baselines.hebo_searcher import FiniteParetoOpt

    space = DesignSpace().parse([{"name": "edge0", "type": "cat", "categories": ["a", "b", "c", "d", "e"]}])
    objectives = torch.tensor([[1.0, 5.0, 0.0], [2.0, 1.0, 0.0], [3.0, 6.0, 1.0], [0.5, 9.0, 0.0], [2.0, 2.0, 0.0]])

    def acquisition(x, xe):  # known objectives per category, as MACE's three columns
        return objectives[xe[:, 0]]

    FiniteParetoOpt.candidates = pd.DataFrame({"edge0": ["a", "b", "c", "d", "e"]})
    found = FiniteParetoOpt(space, acquisition).optimize()
    # c is dominated by a; e by b; a, b and d trade off the first two objectives
    assert sorted(found["edge0"]) == ["a", "b", "d"]


def test_hebo_finite_mode_proposes_unevaluated_cells_and_its_version_follows_the_optimiser_the_space_selects():
    pytest.importorskip("hebo", reason="HEBO is an extra")
    outcome = run_trial(conformance_spec("hebo", {"optimizer": "finite"}, 0, 13))
    assert outcome.error is None and len({o.arch for o in outcome.observations}) == 13
    hebo, nb201, mbv3 = get_searcher("hebo"), get_space("nb201"), get_space("mobilenetv3")
    assert hebo.version_for({"optimizer": "finite"}, nb201) == hebo.version_for({}, nb201) == "3"
    assert hebo.version_for({"optimizer": "evolution"}, nb201) == hebo.version_for({}, mbv3) == "2"  # stock


def test_hebo_is_finite_by_default_where_it_can_score_every_cell_and_stock_elsewhere():
    pytest.importorskip("hebo", reason="HEBO is an extra")
    by_default = run_trial(conformance_spec("hebo", {}, 0, 12))
    assert by_default.error is None and by_default.info["optimizer"] == "finite"
    finite = run_trial(conformance_spec("hebo", {"optimizer": "finite"}, 0, 12))
    assert [o.arch for o in by_default.observations] == [o.arch for o in finite.observations]
    large = get_searcher("hebo")()  # MobileNetV3's 1.1e20 subnets cannot be scored one by one: stock HEBO
    large.setup(get_space("mobilenetv3"), SearchContext("imagenet", "accuracy"), 0)
    assert large.describe()["optimizer"] == "evolution"


def test_hashed_duplicate_check_flags_exactly_what_pymoos_pairwise_one_does():
    pytest.importorskip("hebo", reason="HEBO is an extra")
    from pymoo.core.individual import Individual
    from pymoo.core.mixed import MixedVariableDuplicateElimination
    from pymoo.core.population import Population

    from baselines.hebo_duplicates import HashedDuplicates

    rng = np.random.default_rng(0)

    def population(n, values):
        return Population([Individual(X={f"edge{k}": values[v] for k, v in enumerate(rng.integers(3, size=3))})
                           for _ in range(n)])  # fmt: skip

    stock, hashed = MixedVariableDuplicateElimination(), HashedDuplicates()
    kinds = (
        [0, 1, 2],
        ["a", "b", "c"],
        [0.5, 1.5, float("nan")],
        [np.float32(0.5), np.float32("nan"), 1],
        [np.int64(0), 1, 2.0],
    )
    for values in kinds:
        for _ in range(20):
            pop, other = population(30, values), population(int(rng.integers(0, 10)), values)
            for against in (None, other):
                expected = stock._do(pop, against, np.full(len(pop), False))
                assert (hashed._do(pop, against, np.full(len(pop), False)) == expected).all()
            assert len(hashed.do(pop, other)) == len(stock.do(pop, other)) < 30  # 27 kinds: some repeat
    unhashable = Population([Individual(X={"edge0": [1]}), Individual(X={"edge0": [1]})])
    assert hashed._do(unhashable, None, np.full(2, False)).tolist() == [True, False]  # pymoo's own loop
    nan = np.float32("nan")  # one object, equal to itself in a set but not to pymoo's `!=`
    same_nan = Population([Individual(X={"edge0": nan}), Individual(X={"edge0": nan})])
    subset = Population([Individual(X={"edge0": 1}), Individual(X={"edge0": 1, "edge1": 2})])  # pymoo: a in b
    reordered = Population([Individual(X={"edge0": 1, "edge1": 2}), Individual(X={"edge1": 2, "edge0": 1})])
    for pop in (same_nan, subset, reordered):
        assert (hashed._do(pop, None, np.full(2, False)) == stock._do(pop, None, np.full(2, False))).all()


def test_array_mating_breeds_exactly_what_pymoos_mating_does():
    pytest.importorskip("hebo", reason="HEBO is an extra")
    from pymoo.core.individual import Individual
    from pymoo.core.mixed import MixedVariableMating
    from pymoo.core.population import Population
    from pymoo.core.problem import Problem
    from pymoo.core.variable import Choice, Real

    from baselines.hebo_mating import ArrayMating, applies

    rng = np.random.default_rng(0)
    for _ in range(60):  # odd and even offspring counts, populations smaller and larger than the offspring
        options = list(range(int(rng.integers(2, 6))))
        problem = Problem(vars={f"edge{k}": Choice(options=options) for k in range(int(rng.integers(1, 8)))})
        pop = Population([Individual(X={n: int(rng.choice(options)) for n in problem.vars})
                          for _ in range(int(rng.integers(2, 40)))])  # fmt: skip
        offspring, seed = int(rng.integers(1, 60)), int(rng.integers(2**31))
        stock_rng, array_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        stock = [i.X for i in MixedVariableMating()._do(problem, pop, offspring, random_state=stock_rng)]
        array = [i.X for i in ArrayMating()._do(problem, pop, offspring, random_state=array_rng)]
        assert array == stock and len(array) == offspring
        assert [list(map(type, x.values())) for x in array] == [list(map(type, x.values())) for x in stock]
        assert array_rng.random() == stock_rng.random()  # the same draws, so the rest of the search agrees too
    mixed = Problem(vars={"edge0": Choice(options=[0, 1]), "width": Real(bounds=(0.0, 1.0))})
    assert not applies(ArrayMating(), mixed)  # pymoo's own path for anything but categorical variables


def test_stock_hebo_gives_the_same_trajectory_with_pymoos_own_duplicate_check_and_mating(monkeypatch):
    pytest.importorskip("hebo", reason="HEBO is an extra")
    from pymoo.core.mixed import MixedVariableDuplicateElimination, MixedVariableMating

    from baselines.hebo_duplicates import HashedDuplicates
    from baselines.hebo_mating import ArrayMating

    spec = conformance_spec("hebo", {"initial": 7}, 3, 9)  # 2 model steps after HEBO's own initial design
    fast = [o.arch for o in run_trial(spec).observations]
    monkeypatch.setattr(HashedDuplicates, "_do", MixedVariableDuplicateElimination._do)
    monkeypatch.setattr(ArrayMating, "_do", MixedVariableMating._do)
    assert [o.arch for o in run_trial(spec).observations] == fast and len(set(fast)) == 9


HEBO_TRIAL = """
import sys
if sys.argv[1] == "after-botorch":
    import botorch  # what an earlier BoTorch or RGPE trial in the same worker process left behind
from tnasbench.runner import run_trial
from tnasbench.testing import conformance_spec
print([o.arch for o in run_trial(conformance_spec("hebo", {"initial": 7}, 5, 9)).observations])
"""


def test_a_hebo_trial_is_the_same_whether_or_not_its_process_imported_botorch_before():
    """Importing BoTorch switches gpytorch from CG/Lanczos to Cholesky process-wide; HEBO pins BoTorch's settings,
    so a trial no longer depends on what ran before it in its worker (hebo version 1 did)."""
    pytest.importorskip("hebo", reason="HEBO is an extra")
    runs = [
        subprocess.run([sys.executable, "-c", HEBO_TRIAL, state], capture_output=True, text=True, check=True).stdout
        for state in ("fresh", "after-botorch")
    ]
    assert runs[0] == runs[1] and len(set(ast.literal_eval(runs[0]))) == 9
