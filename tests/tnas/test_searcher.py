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


class TestFsbo(SearcherConformance):
    """FSBO as registered (TNAS's configuration: one-hot, FSBO meta-training, no φ) through the whole suite."""

    budget = 8

    @pytest.fixture
    def searcher_name(self):
        return "fsbo"

    @pytest.fixture
    def searcher_params(self):
        return FAST | {"meta_steps": 20}


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


@pytest.mark.parametrize("name", ["tnas-nodata", "tnas-onehot", "tnas-nometa", "tnas-randinit", "tnas-fsbo", "fsbo"])
def test_variants_run_and_name_themselves(name):
    params = FAST | ({"meta_steps": 20} if "fsbo" in name else {})
    outcome = run_trial(conformance_spec(name, params, 0, 7))
    assert outcome.error is None, outcome.error
    assert len(outcome.observations) == 7
    assert outcome.info["variant"] == name


def test_bad_parameter_fails_the_trial_with_a_hint():
    outcome = run_trial(conformance_spec("tnas", {"acqusition": "ucb"}, 0, 5))
    assert "unknown parameter 'acqusition' (did you mean 'acquisition'?)" in outcome.error


def _set_up(seed, params=FAST):
    searcher = get_searcher("tnas")(**params)
    spec = conformance_spec("tnas", params, seed, 5, dataset="imagenet16-120")
    searcher.setup(nb201_space(), build_context(spec), seed)
    return searcher


def test_cached_meta_training_is_reused_by_the_same_seed_only():
    first, again, other = _set_up(0), _set_up(0), _set_up(1)
    assert again.describe()["cache"] == "hit"
    for a, b in zip(first.model.parameters(), again.model.parameters(), strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    # another trial seed is another replicate: its own meta-training, recorded in the store's facts
    assert other.describe()["config"]["meta_seed"] != first.describe()["config"]["meta_seed"]
    assert other.describe()["cache_key"] != first.describe()["cache_key"]
    assert not all(
        np.array_equal(a.detach().numpy(), b.detach().numpy())
        for a, b in zip(first.model.parameters(), other.model.parameters(), strict=True)
    )


def test_a_fixed_meta_seed_shares_one_meta_training_across_seeds():
    fixed = FAST | {"meta_seed": 7}
    assert _set_up(0, fixed).describe()["config"]["meta_seed"] == 7
    assert _set_up(1, fixed).describe()["cache"] == "hit"


def test_two_seeds_of_default_tnas_are_two_replicates():
    """At the default sizes (not the tests' small ones) the trial seed reaches meta-training, so two seeds give
    two trajectories on the deterministic, noise-free table where the shared meta seed gave one."""
    runs = [run_trial(conformance_spec("tnas", {"meta_steps": 40}, seed, 8, "imagenet16-120")) for seed in (0, 1)]
    assert all(r.error is None for r in runs), [r.error for r in runs]
    assert [o.arch for o in runs[0].observations] != [o.arch for o in runs[1].observations]


def test_fsbo_is_tnas_fsbo_on_the_one_hot_encoding_not_a_copy():
    outcome = run_trial(conformance_spec("fsbo", {"meta_steps": 20, "meta_seed": 3}, 0, 6))
    config = outcome.info["config"]
    assert config["arch_encoder"] == "onehot" and config["meta_training"] == "fsbo" and not config["data_encoder"]
    assert outcome.info["same_as"].startswith("tnas-fsbo")
    params = {"meta_steps": 20, "meta_seed": 3, "arch_encoder": "onehot", "data_encoder": False}
    same = run_trial(conformance_spec("tnas-fsbo", params, 0, 6))
    assert same.info["cache_key"] == outcome.info["cache_key"] and same.info["cache"] == "hit"  # one model


def _keys(name, params, seed):
    """(the runner's shared_setup key, the meta-training cache key the trial's setup used)."""
    spec = conformance_spec(name, params, seed, 5, dataset="imagenet16-120")
    searcher = get_searcher(name)(**params)
    searcher.setup(nb201_space(), build_context(spec), spec.searcher_seed)
    return get_searcher(name).shared_setup(spec), searcher.describe().get("cache_key")


def test_the_setup_key_the_runner_schedules_by_follows_the_meta_training_cache():
    key, cache = _keys("tnas", FAST, 0)
    assert key is not None and cache is not None
    assert _keys("tnas", FAST | {"acquisition": "ucb"}, 0) == (key, cache)  # a variant label: one meta-training
    other_key, other_cache = _keys("tnas", FAST, 1)  # another replicate: its own
    assert other_key != key and other_cache != cache
    assert _keys("tnas-nometa", FAST, 0) == (None, None)  # nothing shared, nothing to schedule around
    assert _keys("tnas-randinit", FAST, 0) == (key, cache)  # an ablation on TNAS's seed stream: TNAS's model
    assert _keys("tnas-onehot", FAST, 0)[0] not in (None, key)  # an ablation of the model: its own


def test_randinit_is_paired_with_tnas_and_differs_only_in_its_initial_design():
    spec = conformance_spec("tnas", FAST, 0, 5)
    paired = conformance_spec("tnas-randinit", FAST, 0, 5)
    assert paired.searcher_seed == spec.searcher_seed
    assert conformance_spec("tnas-onehot", FAST, 0, 5).searcher_seed != spec.searcher_seed
    tnas, randinit = run_trial(spec), run_trial(paired)
    assert tnas.info["cache_key"] == randinit.info["cache_key"]
    assert randinit.info["cache"] == "hit"  # TNAS's meta-training, not a second one
    assert tnas.observations[0].arch != randinit.observations[0].arch  # the model's top cell vs a random one
