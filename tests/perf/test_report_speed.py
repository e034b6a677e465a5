"""A report from a store of 104,000 observations (goal in ``conftest.GOALS``: <= 10 s).

Shaped like a real suite's store: 8 tasks of NAS-Bench-Graph with 13 seeds each (paired tests of 13 pairs per
task, where scipy's Wilcoxon is exact) and regrets on a table's 0.1-point grid, so ties and zeros occur.
"""

import json
from dataclasses import replace

import numpy as np
import pytest

from tnasbench.report import build_report
from tnasbench.store import Observation, Store
from tnasbench.testing import conformance_spec

SEARCHERS = ("tnas", "random-search", "botorch-ei", "botorch-ucb", "hebo", "bananas", "nasbowl", "gdas", "drnas", "re")
DATASETS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv")
SEEDS = 13  # 10 searchers x 8 datasets x 13 seeds x 100 steps = 104,000 observations


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.sqlite"
    store = Store(path)
    rng = np.random.default_rng(0)
    for dataset in DATASETS:
        base = conformance_spec("random-search", {}, 0, 100, dataset=dataset, benchmark="nasbench-graph")
        for k, name in enumerate(SEARCHERS):
            for seed in range(SEEDS):
                spec = replace(base, label=name, seed=seed, params=json.dumps({"k": k}))
                store.claim_trial(spec, 94.0, {"python": "3.11"}, "benchmark")
                regret = np.round(np.minimum.accumulate(rng.exponential(2.0 + k / 5, 100)), 1)
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
    assert "104000" in str(len(Store(big_store).observations())) and "### H1:" in report.read_text()
