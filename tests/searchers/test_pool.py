"""Candidate pools on a space too large to enumerate: what a model scores, drawn from the trial's seed, recorded."""

import numpy as np
import pytest

from tnasbench.runner import run_trial
from tnasbench.searchers.observing import CellRegistry
from tnasbench.space.mobilenetv3 import mobilenetv3_space
from tnasbench.store import Store
from tnasbench.testing import OFA_PREDICTOR, conformance_spec, searcher_with_observations

needs_ofa = pytest.mark.skipif(not OFA_PREDICTOR.is_file(), reason=f"no OFA predictor at {OFA_PREDICTOR}")
SMALL_POOL = {"initial": 5, "pool_size": 500, "pool_parents": 3}


def test_the_registry_numbers_cells_once_and_grows_its_encodings():
    space = mobilenetv3_space()
    registry = CellRegistry(space)
    cells = space.sample_many(np.random.default_rng(0), 20)
    ids = [registry.id(c) for c in cells]
    assert ids == [registry.id(c) for c in cells] and len(registry) == len(set(cells))
    first = registry.encoding("onehot")
    more = space.sample_many(np.random.default_rng(1), 5)
    for cell in more:
        registry.id(cell)
    grown = registry.encoding("onehot")
    assert (grown[: len(first)] == first).all() and len(grown) == len(registry)
    assert (grown[registry.id(more[0])] == space.encode("onehot", [more[0]])[0]).all()


@needs_ofa
def test_the_pool_is_random_cells_plus_mutations_of_the_best_without_evaluated_ones():
    searcher, _ = searcher_with_observations("botorch-ei", SMALL_POOL, 20, "ofa-imagenet")
    pool = set(searcher.candidates().tolist())
    assert not pool & set(searcher.observed)
    best = searcher.cell(searcher.observed[int(np.argmax(searcher.accuracies))])
    assert {searcher.cell_id(m) for m in searcher._space.neighbours(best)} - set(searcher.observed) <= pool
    assert 500 - 5 <= len(pool - searcher.mutations_of_best(3)) <= 500  # the random part (repeats are rare)
    assert "500 random cells" in searcher.describe()["candidate_pool"]


@needs_ofa
def test_the_pool_follows_the_trial_seed_and_leaves_the_searchers_own_draws_alone():
    def pool(seed):
        searcher, _ = searcher_with_observations("botorch-ei", SMALL_POOL, 6, "ofa-imagenet")
        searcher.start(searcher._space, seed, 500, 3)
        return {searcher.cell(i) for i in searcher.candidates()}, searcher._rng.integers(1 << 30)

    (one, draw_one), (again, draw_again), (other, _) = pool(1), pool(1), pool(2)
    assert one == again and one != other
    assert draw_one == draw_again  # drawing the pool took nothing from the searcher's generator


@needs_ofa
def test_a_large_space_run_stores_cells_by_name(tmp_path):
    spec = conformance_spec("botorch-ei", SMALL_POOL, 0, 8, benchmark="ofa-imagenet")
    outcome = run_trial(spec)
    assert outcome.error is None, outcome.error
    store = Store(tmp_path / "s.sqlite")
    store.add_observations(spec.key, outcome.observations)
    rows = store.db.execute("SELECT arch, cell FROM observations").fetchall()
    space = mobilenetv3_space()
    assert len(rows) == 8 and all(arch == -1 for arch, _ in rows)
    assert all(space.contains(space.parse(cell)) for _, cell in rows)
    assert "candidate_pool" in outcome.info
