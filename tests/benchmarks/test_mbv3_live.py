"""mbv3-live: MobileNetV3 subnets written here, trained from scratch on real images at a declared recipe."""

import dataclasses

import numpy as np
import pytest
import torch

from tnasbench.benchmarks.images import load_images
from tnasbench.benchmarks.live import LiveBenchmark, LiveCache, TrainingConfig, network_for
from tnasbench.errors import TnasbenchError
from tnasbench.runner import resolve, run_trial
from tnasbench.space.mbv3_network import InvertedResidual, MobileNetV3Subnet, SqueezeExcite, divisible
from tnasbench.space.mobilenetv3 import mobilenetv3_space
from tnasbench.testing import conformance_spec

TINY = TrainingConfig(epochs=4, batch_size=64, learning_rate=0.05, width_multiplier=0.25, resolution=16, device="cpu")


def test_the_subnet_has_the_cells_layers_and_ofas_skeleton():
    space = mobilenetv3_space()
    cell = space.sample_many(np.random.default_rng(0), 1)[0]
    model = MobileNetV3Subnet(cell, in_channels=1, num_classes=7, width=0.5)
    blocks = [m for m in model.features if isinstance(m, InvertedResidual)]
    assert len(blocks) == len(space.layers(cell)) + 1  # the fixed first block, then one per layer
    kernels = [b.body[3 if len(b.body) > 5 else 0].kernel_size[0] for b in blocks[1:]]
    assert kernels == [k for k, _ in space.layers(cell)]
    with_se = sum(any(isinstance(m, SqueezeExcite) for m in b.body) for b in blocks)
    depths = space.depths(cell)
    assert with_se == depths[1] + depths[3] + depths[4]  # squeeze-excite in stages 2, 4 and 5
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 7)
    assert divisible(160 * 0.25) == 40 and divisible(24 * 0.25) == 8


def test_bigger_subnets_have_more_parameters():
    space = mobilenetv3_space()
    small, large = (
        sum(p.numel() for p in MobileNetV3Subnet(c).parameters()) for c in (space.smallest(), space.largest())
    )
    assert small < large
    assert 5e6 < large < 1e7  # OFA's largest MobileNetV3 subnet: ~7.7M parameters at width 1.0, 1,000 classes → 10 here


def test_a_subnet_trains_at_its_resolution_share(tmp_path):
    space = mobilenetv3_space()
    data = load_images("digits")
    config = TrainingConfig(resolution=32, width_multiplier=0.25)
    low = space.smallest()  # 160 px
    _, seen_low = network_for("mobilenetv3", low, data, config)
    _, seen_high = network_for("mobilenetv3", space.make(low.choices[:-1] + (4,)), data, config)
    assert seen_low.train[0].shape[-1] == 23 and seen_high.train[0].shape[-1] == 32  # 32 x 160/224, 32 x 224/224
    with pytest.raises(TnasbenchError, match="would see 6-px images: set \\[live\\] resolution to at least 12"):
        network_for("mobilenetv3", low, data, TrainingConfig())  # digits are 8 px: 8 x 160/224


def test_live_training_learns_is_cached_and_keyed_by_subnet(tmp_path):
    space = mobilenetv3_space()
    bench = LiveBenchmark("digits", TINY, seed=0, cache=LiveCache(tmp_path / "c.sqlite"), space="mobilenetv3")
    cell = space.smallest()
    first = bench.evaluate(cell)
    assert first.result.accuracy > 50 and first.result.cost_seconds > 0  # ten classes: chance is 10%
    again = LiveBenchmark("digits", TINY, seed=0, cache=LiveCache(tmp_path / "c.sqlite"), space="mobilenetv3")
    assert again.evaluate(cell) == first
    assert bench.run_key(cell).startswith("mobilenetv3|digits|") and bench.run_key(cell).endswith(space.to_string(cell))
    assert bench.signature()["space"] == "mobilenetv3"


def test_width_multiplier_is_refused_where_it_means_nothing():
    with pytest.raises(TnasbenchError, match="width_multiplier sizes MobileNetV3 subnets"):
        LiveBenchmark("digits", TrainingConfig(width_multiplier=0.5))
    with pytest.raises(TnasbenchError, match="width_multiplier must be a number"):
        TrainingConfig.from_mapping({"width_multiplier": -1})
    assert "width_multiplier" not in TrainingConfig().to_json()  # older live runs keep their cache keys


def test_a_searcher_runs_on_mbv3_live():
    spec = conformance_spec("regularized-evolution", {"population": 2, "tournament": 1}, 0, 3, benchmark="mbv3-live")
    quick = dataclasses.replace(TINY, epochs=1, max_train_samples=256)  # what is checked is the plumbing
    spec = resolve(dataclasses.replace(spec, live=quick.to_json()))
    outcome = run_trial(spec)
    assert outcome.error is None, outcome.error
    space = mobilenetv3_space()
    assert len(outcome.observations) == 3 and all(space.contains(space.parse(o.cell)) for o in outcome.observations)
    assert all(0 <= o.objective <= 100 and o.cost_seconds > 0 for o in outcome.observations)


def test_a_report_on_mbv3_live_says_what_was_trained_and_what_it_cannot_be_compared_with(tmp_path):
    from tnasbench.report.build import build_report
    from tnasbench.runner import run_suite
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    (tmp_path / "s.toml").write_text(
        'name = "s"\nbenchmark = "mbv3-live"\ndatasets = ["digits"]\nseeds = [0]\nbudgets = [{evaluations = 2}]\n'
        "[live]\nepochs = 1\nwidth_multiplier = 0.1\nresolution = 16\nmax_train_samples = 200\n"
        'max_eval_samples = 200\n[[searchers]]\nname = "random-search"\n'
    )
    store = Store(tmp_path / "s.sqlite")
    assert run_suite(load_suite(tmp_path / "s.toml"), store, show_progress=False)["failed"] == 0
    text = build_report(tmp_path / "s.sqlite", tmp_path / "report").read_text()
    head = text[: text.index("## ")] if "## " in text else text
    assert "`mbv3-live`: every accuracy is a network trained at recipe" in head
    assert "width_multiplier 0.1" in head and "channels" not in head  # the keys that shape a MobileNetV3 training
    assert "cannot be compared with the paper's MobileNetV3 results" in head
