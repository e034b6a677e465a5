"""Meta-training speed (pytest-benchmark), the price of one TNAS replicate now that every trial seed
meta-trains its own model. Goal, reported by `tox -e bench` and not asserted: a whole Reptile
meta-training at the default sizes ≤ 30 s on one core. Each round runs a slice of the outer steps; the
whole-run estimate (median × steps / slice) is in ``extra_info``."""

import pytest
import torch

from tnasbench.benchmarks.tables import load_table
from tnasbench.space import nb201_space
from tnasbench.tnas.arch_encoder import cell_graphs
from tnasbench.tnas.config import TnasConfig
from tnasbench.tnas.meta import MetaTask, train_fsbo, train_reptile
from tnasbench.tnas.model import DeepKernelSurrogate

SLICE = 20  # outer steps per round (the default run has 400 Reptile steps, or 1,000 for tnas-fsbo)


@pytest.mark.parametrize(
    ("procedure", "train", "full"),
    [("reptile", train_reptile, 400), ("fsbo", train_fsbo, 1000)],
    ids=["reptile", "fsbo"],
)
@pytest.mark.parametrize("encoder", ["gru", "onehot"])
def test_meta_training_at_default_sizes(benchmark, procedure, train, full, encoder):
    graphs = cell_graphs(nb201_space())
    tasks = [MetaTask.from_accuracies(d, load_table(d).column("val@200"), None) for d in ("cifar10", "imagenet16-120")]
    config = TnasConfig(arch_encoder=encoder, meta_training=procedure, meta_steps=SLICE, meta_seed=0)
    torch.set_num_threads(1)

    def meta_train():
        train(DeepKernelSurrogate(config, use_data=False), graphs, tasks, config, lambda: None)

    benchmark.pedantic(meta_train, rounds=3, iterations=1)
    if benchmark.stats is not None:  # None when benchmarks are disabled (the plain test run)
        benchmark.extra_info["whole_meta_training_s"] = round(benchmark.stats.stats.median * full / SLICE, 1)
