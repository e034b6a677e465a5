import gzip

import numpy as np
import pytest

from tnasbench.benchmarks.images import load_fashion_mnist, load_images, read_idx
from tnasbench.benchmarks.live import LiveBenchmark, LiveCache, TrainingConfig, image_sample
from tnasbench.errors import TnasbenchError
from tnasbench.space import Arch, nb201_space

TINY = TrainingConfig(epochs=2, channels=4, cells_per_stage=1, batch_size=64, device="cpu")


def test_digits_splits_are_disjoint_and_normalised():
    data = load_images("digits")
    sizes = [len(part[1]) for part in (data.train, data.val, data.test)]
    assert sum(sizes) == 1797 and min(sizes) > 300
    assert abs(float(data.train[0].mean())) < 1e-4
    assert data.in_channels == 1 and data.num_classes == 10


def test_live_training_learns_and_is_cached(tmp_path):
    cache = LiveCache(tmp_path / "cache.sqlite")
    bench = LiveBenchmark("digits", TINY, seed=0, cache=cache)
    good = Arch.from_string(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    )
    first = bench.evaluate(good)
    assert first.result.accuracy > 50  # ten classes: chance is 10%
    assert first.result.cost_seconds > 0
    again = LiveBenchmark("digits", TINY, seed=0, cache=LiveCache(tmp_path / "cache.sqlite")).evaluate(good)
    assert again == first  # served from the cache, cost included


def test_isomorphic_cells_share_one_training(tmp_path):
    cache = LiveCache(tmp_path / "cache.sqlite")
    bench = LiveBenchmark("digits", TINY, seed=0, cache=cache)
    a = Arch.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    b = Arch.from_string("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert bench.run_key(a) == bench.run_key(b)


def test_a_cell_with_no_path_stays_near_chance(tmp_path):
    bench = LiveBenchmark("digits", TINY, seed=0, cache=LiveCache(tmp_path / "c.sqlite"))
    dead = nb201_space().arch(0).__class__((0,) * 6)
    assert bench.evaluate(dead).result.accuracy < 40


def test_image_sample_has_per_class_sets():
    sample = image_sample("digits", seed=0, per_class=5)
    assert sorted(sample) == list(range(10))
    assert all(images.shape == (5, 1, 8, 8) for images in sample.values())


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reader_on_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (120, 28, 28)))
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 120))
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (30, 28, 28)))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 30))
    data = load_fashion_mnist(tmp_path)
    assert data.train[0].shape == (100, 1, 28, 28) and data.val[0].shape == (20, 1, 28, 28)
    assert data.test[0].shape == (30, 1, 28, 28)


def test_truncated_idx_file_is_refused(tmp_path):
    path = tmp_path / "x.gz"
    _write_idx(path, np.zeros((10, 4, 4)))
    raw = gzip.decompress(path.read_bytes())[:-5]
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(TnasbenchError, match="truncated"):
        read_idx(path)


def test_missing_fashion_mnist_names_the_fix(tmp_path):
    with pytest.raises(TnasbenchError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path)


def test_bad_training_config_is_clear():
    with pytest.raises(TnasbenchError, match="epochs must be a positive integer"):
        TrainingConfig.from_mapping({"epochs": 0})
    with pytest.raises(TnasbenchError, match="unknown key 'epoch'"):
        TrainingConfig.from_mapping({"epoch": 3})
