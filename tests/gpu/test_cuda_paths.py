"""Every training path on the accelerator: live training, the four one-shot searches and TNAS's surrogate."""

import pytest
import torch

from baselines.oneshot import DrNas, Gdas, PcDarts, Setn
from tnasbench.benchmarks.images import load_images
from tnasbench.benchmarks.live import TrainingConfig, train_cell
from tnasbench.searchers import SearchContext, get_searcher
from tnasbench.space import Arch, nb201_space
from tnasbench.testing import build_context, conformance_spec, make_benchmark


def test_live_training_runs_on_the_device_and_learns(device):
    run = train_cell(Arch((3, 1, 2, 4, 0, 3)), load_images("digits"), TrainingConfig(epochs=2, device=device), 0)
    assert run["val"] > 50 and run["test"] > 50 and run["seconds"] > 0  # 10 classes: chance is 10%


@pytest.mark.parametrize("cls", [Gdas, DrNas, Setn, PcDarts])
def test_one_shot_searches_run_on_the_device(device, cls):
    searcher = cls(epochs=1, batch=128, candidates=10)
    cell = searcher.search(load_images("digits"), 0, device)
    assert cell in nb201_space().archs
    trained = [*searcher.supernet.parameters(), *searcher.architecture()]
    assert {p.device.type for p in trained} == {torch.device(device).type}


def test_tnas_fits_and_scores_every_cell_on_the_device(device):
    spec = conformance_spec("tnas", {"meta_steps": 20}, 0, 12)
    base = build_context(spec)
    context = SearchContext(base.dataset, base.objective, base.meta_tables, base.images, device)
    table = make_benchmark(spec)
    searcher = get_searcher("tnas")(meta_steps=20)
    searcher.setup(nb201_space(), context, seed=0)
    asked = []
    for _ in range(12):
        cell = searcher.ask()
        searcher.tell(cell, table.evaluate(cell).result)
        asked.append(cell)
    assert len(set(asked)) == 12 and searcher._codes.device.type == torch.device(device).type
