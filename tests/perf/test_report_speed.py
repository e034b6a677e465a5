"""A report from a store of 102,000 observations (goal in ``conftest.GOALS``: <= 10 s)."""

import json
from dataclasses import replace

import numpy as np
import pytest

from tnasbench.report import build_report
from tnasbench.store import Observation, Store
from tnasbench.testing import conformance_spec

SEARCHERS = ("tnas", "random-search", "botorch-ei", "botorch-ucb", "hebo", "bananas", "nasbowl", "gdas", "drnas", "re")
DATASETS = ("cifar10", "cifar100", "imagenet16-120")
SEEDS = 34  # 10 searchers x 3 datasets x 34 seeds x 100 steps = 102,000 observations


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.sqlite"
    store = Store(path)
    rng = np.random.default_rng(0)
    for dataset in DATASETS:
        base = conformance_spec("random-search", {}, 0, 100, dataset=dataset)
        for k, name in enumerate(SEARCHERS):
            for seed in range(SEEDS):
                spec = replace(base, label=name, seed=seed, params=json.dumps({"k": k}))
                store.claim_trial(spec, 94.0, {"python": "3.11"}, "benchmark")
                regret = np.minimum.accumulate(rng.exponential(2.0 + k / 5, 100))
                store.add_observations(
                    spec.key,
                    [
                        Observation(s + 1, int(rng.integers(15625)), 200, 90.0, 94.0 - r, r, 1000.0, 0.001)
                        for s, r in enumerate(regret)
                    ],  # fmt: skip
                )
                store.finish_trial(spec.key)
    store.close()
    return path


def test_report_from_100k_observations(benchmark, big_store, tmp_path):
    report = benchmark.pedantic(build_report, args=(big_store, tmp_path), rounds=1, iterations=1)
    assert "102000" in str(len(Store(big_store).observations())) and "### H1:" in report.read_text()
