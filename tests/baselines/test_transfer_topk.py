"""transfer-topk: the zero-model transfer floor, checked against the meta tables by hand."""

import numpy as np
import pytest

from baselines.transfer_topk import TransferTopK, transfer_ranking
from tnasbench.benchmarks.protocol import Result
from tnasbench.benchmarks.tables import load_table
from tnasbench.runner import run_trial
from tnasbench.searchers import SearchContext
from tnasbench.searchers.protocol import MetaTable
from tnasbench.space import nb201_space
from tnasbench.testing import SearcherConformance, conformance_spec


class TestTransferTopK(SearcherConformance):
    @pytest.fixture
    def searcher_name(self):
        return "transfer-topk"


class TestTransferTopKWithLocalSearch(SearcherConformance):
    budget = 12

    @pytest.fixture
    def searcher_name(self):
        return "transfer-topk"

    @pytest.fixture
    def searcher_params(self):
        return {"list_length": 3}  # the local-search phase draws at random: seeds are replicates again


def _context(*columns):
    tables = tuple(MetaTable(f"task{k}", "val", np.asarray(c, dtype=float)) for k, c in enumerate(columns))
    return SearchContext("target", "val", tables)


def test_ranking_is_the_mean_z_score_one_cell_per_isomorphism_class():
    space = nb201_space()
    a = np.arange(len(space), dtype=float)  # favours high indices
    b = 1000.0 * np.arange(len(space))[::-1]  # favours low indices, on another scale: z-scores cancel it out
    b[5] += 1e9  # one cell far above everything on the second table
    ranked = transfer_ranking(space, _context(a, b))
    assert ranked[0] == 5
    assert len(set(space.canonical_ids[ranked].tolist())) == len(ranked) == len(set(space.canonical_ids.tolist()))


def test_on_nb201_it_evaluates_the_other_datasets_consensus_and_never_the_target_table():
    outcome = run_trial(conformance_spec("transfer-topk", {}, 0, 5, dataset="cifar100"))
    assert outcome.error is None and outcome.info["meta_datasets"] == ["cifar10", "imagenet16-120"]
    z = [(v - v.mean()) / v.std() for v in (load_table(d).column("val@200") for d in ("cifar10", "imagenet16-120"))]
    assert [o.arch for o in outcome.observations][0] == int(np.argmax(np.mean(z, axis=0)))


def test_after_its_list_it_climbs_from_the_best_cell():
    space = nb201_space()
    searcher = TransferTopK(list_length=2)
    searcher.setup(space, _context(np.arange(len(space), dtype=float)), seed=0)
    first, second = searcher.ask(), None
    searcher.tell(first, Result(50.0, 1.0, "val", 200))
    second = searcher.ask()
    searcher.tell(second, Result(10.0, 1.0, "val", 200))
    assert searcher.ask() in first.mutations()  # the best so far is the first cell


def test_bad_list_length_is_one_line():
    with pytest.raises(ValueError, match="list_length must be a positive integer"):
        TransferTopK(list_length=0).setup(nb201_space(), _context(np.zeros(15625) + np.arange(15625)), 0)
