"""The conformance checks per (searcher, space): every black-box searcher runs on TransNAS-Bench-101 micro
and NAS-Bench-Graph as it does on NB201 (which the searchers' own test modules cover)."""

import pytest

from tnasbench.errors import TnasbenchError
from tnasbench.searchers.registry import check_space
from tnasbench.testing import OFA_PREDICTOR, TRANSNAS_ZIP, SearcherConformance

OTHER_SPACES = [
    pytest.param(
        "transnas101-micro",
        marks=pytest.mark.skipif(not TRANSNAS_ZIP.is_file(), reason=f"TransNAS-Bench-101 zip not at {TRANSNAS_ZIP}"),
    ),
    "nasbench-graph",
]
NO_OFA = pytest.mark.skipif(not OFA_PREDICTOR.is_file(), reason=f"no OFA predictor at {OFA_PREDICTOR}")
OFA = pytest.param("ofa-imagenet", marks=NO_OFA)  # the MobileNetV3 space: 1.1e20 subnets, through candidate pools
# HEBO's default on MobileNetV3 (too large to score cell by cell) is its stock genetic search over 20 dimensions,
# ~20 s a trial: its check there is in the slow tier. The default tier checks HEBO's default on the two other
# spaces (its finite optimiser), and stock HEBO on NB201 (tests/baselines/test_model_based.py).
SLOW_ON_OFA = {"hebo"}
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
    "tnas-nometa": (TNAS_FAST, 8),
    "fsbo": (TNAS_FAST, 8),  # TNAS's configuration with FSBO's meta-training on the one-hot encoding
}


def _searches_large_spaces(name: str, params: dict) -> bool:
    """Whether a suite would accept ``name`` on the MobileNetV3 space (else it refuses it in one line)."""
    try:
        check_space(name, "ofa-imagenet", params)
    except TnasbenchError:
        return False
    return True


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

        ofa = pytest.param("ofa-imagenet", marks=[NO_OFA, pytest.mark.slow]) if name in SLOW_ON_OFA else OFA

        @pytest.fixture(params=OTHER_SPACES + ([ofa] if _searches_large_spaces(name, params) else []))
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
TestTnasNoMeta = _conformance("tnas-nometa")
TestFsbo = _conformance("fsbo")
