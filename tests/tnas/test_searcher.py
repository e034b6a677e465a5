import numpy as np
import pytest

import tnasbench.benchmarks.tables as tables
from tnasbench.benchmarks.protocol import Result
from tnasbench.runner import run_trial
from tnasbench.searchers import get_searcher
from tnasbench.searchers.context import build_context
from tnasbench.space import nb201_space
from tnasbench.testing import SearcherConformance, conformance_spec

# small sizes keep the tests quick; the meta-trained weights are cached for the whole session
FAST = {"arch_hidden": 32, "head": [32, 16], "meta_steps": 40, "batch": 128, "finetune_epochs": 20}


class TestTnas(SearcherConformance):
    budget = 12

    @pytest.fixture
    def searcher_name(self):
        return "tnas"

    @pytest.fixture
    def searcher_params(self):
        return dict(FAST)


def test_runs_without_the_target_table_and_never_reads_a_table(monkeypatch):
    context = build_context(conformance_spec("tnas", FAST, 0, 10, dataset="cifar100"))
    assert "cifar100" not in {t.dataset for t in context.meta_tables}

    def refuse(*args, **kwargs):
        raise AssertionError("the searcher read a benchmark table")

    monkeypatch.setattr(tables, "load_table", refuse)
    searcher = get_searcher("tnas")(**FAST)
    space = nb201_space()
    searcher.setup(space, context, seed=0)
    for _ in range(7):  # the initial design and two BO steps
        arch = searcher.ask()
        searcher.tell(arch, Result(50.0 + space.index(arch) % 7, 1.0, "val@200", 200))


def test_tabular_run_says_it_ran_without_the_dataset_encoder():
    searcher = get_searcher("tnas")(**FAST)
    searcher.setup(nb201_space(), build_context(conformance_spec("tnas", FAST, 0, 10)), seed=0)
    facts = searcher.describe()
    assert facts["variant"] == "tnas-nodata"
    assert facts["dataset_encoder"].startswith("off: no images of the target")
    assert facts["meta_training"] == "reptile"
    assert facts["meta_datasets"] == ["cifar100", "imagenet16-120"]


def test_initial_design_is_the_meta_models_top_cells_one_per_isomorphism_class():
    space = nb201_space()
    outcome = run_trial(conformance_spec("tnas", FAST, 0, 5))
    first = [o.arch for o in outcome.observations]
    assert len({space.canonical_ids[i] for i in first}) == 5
    # the meta-trained ranking transfers: its picks beat the median cell by far on the unseen dataset
    median = np.median(tables.load_table("cifar10").column("val@200"))
    assert min(o.objective for o in outcome.observations) > median


@pytest.mark.parametrize("name", ["tnas-nodata", "tnas-onehot", "tnas-nometa", "tnas-randinit", "tnas-fsbo"])
def test_variants_run_and_name_themselves(name):
    params = FAST | ({"meta_steps": 20} if name == "tnas-fsbo" else {})
    outcome = run_trial(conformance_spec(name, params, 0, 7))
    assert outcome.error is None, outcome.error
    assert len(outcome.observations) == 7
    assert outcome.info["variant"] == name


def test_bad_parameter_fails_the_trial_with_a_hint():
    outcome = run_trial(conformance_spec("tnas", {"acqusition": "ucb"}, 0, 5))
    assert "unknown parameter 'acqusition' (did you mean 'acquisition'?)" in outcome.error


def test_cached_meta_training_is_reused():
    first = get_searcher("tnas")(**FAST)
    first.setup(nb201_space(), build_context(conformance_spec("tnas", FAST, 0, 5, dataset="imagenet16-120")), 0)
    second = get_searcher("tnas")(**FAST)
    second.setup(nb201_space(), build_context(conformance_spec("tnas", FAST, 1, 5, dataset="imagenet16-120")), 1)
    assert second.describe()["cache"] == "hit"
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
