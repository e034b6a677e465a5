"""The committed NB201 store still comes out of today's code: its trials, run again from their seeds, give the same
evaluations (``tnasbench verify --replay``). A difference means a change altered what a searcher does without a
version bump, which would leave reports/nb201 describing code that no longer exists. Stores made on another CPU or
library build may part after some model steps (README, Reproducibility); this one was made on this machine type."""

from pathlib import Path

import pytest

from tnasbench.store import Store
from tnasbench.verify import replay_trials

STORE = Path(__file__).resolve().parents[1] / "reports" / "nb201" / "nb201.sqlite"
CHEAP = ["random-search", "local-search", "regularized-evolution", "transfer-topk", "nasbowl", "metad2a", "tnas-nometa"]
MODEL_BASED = ["tnas", "tnas-fsbo", "tnas-onehot", "tnas-randinit", "fsbo", "hebo", "botorch-ei", "rgpe", "bananas"]


def _replay(labels: list[str]) -> None:
    store = Store(STORE, readonly=True)
    try:
        replays = replay_trials(store, 1, set(labels))
    finally:
        store.close()
    assert sorted(r.label for r in replays) == sorted(labels)
    assert all(r.same for r in replays), "\n".join(r.line() for r in replays if not r.same)


def test_the_committed_nb201_store_replays_its_cheap_searchers_and_tnas_without_meta_training():
    """tnas-nometa runs TNAS's per-step fine-tuning and GP: the part a faster optimiser or kernel would change."""
    _replay(CHEAP)


@pytest.mark.slow
def test_the_committed_nb201_store_replays_its_model_based_searchers():
    """TNAS, its meta-training variants (meta-trained afresh), tnas-randinit (on TNAS's seeds), HEBO, BoTorch,
    RGPE and BANANAS: ~7 minutes."""
    _replay(MODEL_BASED)
