"""The conformance checks per (searcher, space): every black-box searcher runs on TransNAS-Bench-101 micro
and NAS-Bench-Graph as it does on NB201 (which the searchers' own test modules cover)."""

import pytest

from tnasbench.testing import TRANSNAS_ZIP, SearcherConformance

OTHER_SPACES = [
    pytest.param(
        "transnas101-micro",
        marks=pytest.mark.skipif(not TRANSNAS_ZIP.is_file(), reason=f"TransNAS-Bench-101 zip not at {TRANSNAS_ZIP}"),
    ),
    "nasbench-graph",
]
TNAS_FAST = {"arch_hidden": 32, "head": [32, 16], "meta_steps": 20, "batch": 64, "finetune_epochs": 10}
SEARCHERS = {  # name -> (params, budget): budgets just past each model's initial design
    "random-search": ({}, 15),
    "local-search": ({}, 15),
    "regularized-evolution": ({}, 15),
    "botorch-ei": ({"initial": 5}, 8),
    "bananas": ({"initial": 5}, 7),
    "nasbowl": ({"initial": 5}, 7),
    "transfer-topk": ({}, 8),
    "rgpe": ({"base_points": 40, "samples": 64}, 5),
    "hebo": ({}, 11),  # its default initial design (10 random suggestions), then one from its model
    "tnas": (TNAS_FAST, 8),
    "tnas-onehot": (TNAS_FAST, 8),
    "fsbo": (TNAS_FAST, 8),  # TNAS's configuration with FSBO's meta-training on the one-hot encoding
}


def _conformance(name: str) -> type:
    params, evaluations = SEARCHERS[name]

    class Checks(SearcherConformance):
        budget = evaluations

        @pytest.fixture
        def searcher_name(self):
            return name

        @pytest.fixture
        def searcher_params(self):
            return dict(params)

        @pytest.fixture(params=OTHER_SPACES)
        def benchmark_name(self, request):
            return request.param

    return Checks


TestRandomSearch = _conformance("random-search")
TestLocalSearch = _conformance("local-search")
TestRegularizedEvolution = _conformance("regularized-evolution")
TestBotorchEI = _conformance("botorch-ei")
TestBananas = _conformance("bananas")
TestNasbowl = _conformance("nasbowl")
TestTransferTopK = _conformance("transfer-topk")
TestHebo = _conformance("hebo")
TestRgpe = _conformance("rgpe")
TestTnas = _conformance("tnas")
TestTnasOneHot = _conformance("tnas-onehot")
TestFsbo = _conformance("fsbo")
