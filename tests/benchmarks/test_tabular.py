import numpy as np
import pytest

from tnasbench.benchmarks import TabularBenchmark
from tnasbench.benchmarks.tables import load_table
from tnasbench.errors import TnasbenchError
from tnasbench.space import nb201_space


def test_searcher_sees_validation_while_reports_score_test():
    bench = TabularBenchmark("cifar10")
    evaluation = bench.evaluate(nb201_space().arch(6111))
    assert evaluation.result.metric == "val@200"
    assert evaluation.result.accuracy == pytest.approx(91.607, abs=1e-3)
    assert bench.report == "test@200"
    assert evaluation.reported == pytest.approx(94.373, abs=1e-3)
    assert bench.optimum() == pytest.approx(94.373, abs=1e-3)


def test_cost_is_the_real_training_time():
    bench = TabularBenchmark("cifar100")
    times = load_table("cifar100").column("train_time@200")
    assert bench.evaluate(nb201_space().arch(42)).result.cost_seconds == times[42]
    cheap = TabularBenchmark("cifar100", objective="val@12")
    assert cheap.evaluate(nb201_space().arch(42)).result.cost_seconds == pytest.approx(times[42] * 12 / 200)


def test_report_falls_back_to_validation_without_a_test_table(fresh_home):
    bench = TabularBenchmark("cifar10")
    assert bench.report == "val@200"
    assert bench.optimum() == pytest.approx(91.607, abs=1e-3)


def test_sampled_seed_noise_is_reproducible_and_varies():
    arch = nb201_space().arch(1)
    draws = [
        [TabularBenchmark("cifar10", noise="sampled-seed", seed=s).evaluate(arch).result.accuracy for _ in range(1)]
        for s in range(20)
    ]
    seeds = load_table("cifar10").val_seeds[1]
    assert {d[0] for d in draws} <= set(seeds[~np.isnan(seeds)].tolist())
    assert len({d[0] for d in draws}) > 1
    again = TabularBenchmark("cifar10", noise="sampled-seed", seed=3)
    assert again.evaluate(arch).result.accuracy == draws[3][0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"objective": "acc"}, "unknown objective metric 'acc'"),
        ({"noise": "loud"}, "unknown noise mode"),
        ({"objective": "test@200", "noise": "sampled-seed"}, "needs objective = 'val@200'"),
    ],
)
def test_bad_benchmark_options_are_clear(kwargs, message):
    with pytest.raises(TnasbenchError, match=message):
        TabularBenchmark("cifar10", **kwargs)


def test_unknown_dataset_is_clear():
    with pytest.raises(TnasbenchError, match="unknown NB201 dataset 'cifar11'"):
        load_table("cifar11")


def test_signature_changes_with_the_data(fresh_home):
    without_test = TabularBenchmark("cifar10", report="val@200").signature()
    assert set(without_test) == {"val@200", "train_time@200"}
    assert TabularBenchmark("cifar100", report="val@200").signature() != without_test


@pytest.mark.parametrize("broken", [b"not an npz", b"", b"PK\x03\x04 truncated zip", "npy", "wrong shape"])
def test_the_parsed_embedded_table_is_cached_by_checksum_and_a_broken_cache_is_only_slower(fresh_home, broken):
    parsed = load_table("cifar10")
    (cached,) = (fresh_home / "embedded").glob("cifar10-*.npz")
    assert cached.name == "cifar10-2f6f8dcb4c6c8d12-v1.npz"  # the pickle's sha256 and the parser's format
    load_table.cache_clear()
    assert load_table("cifar10").signature() == parsed.signature()  # read back from the cache: the same columns
    if broken == "npy":
        np.save(open(cached, "wb"), np.zeros(3))
    elif broken == "wrong shape":
        np.savez(cached, seeds=np.zeros((3, 3)), train_time=np.zeros(3))
    else:
        cached.write_bytes(broken)
    load_table.cache_clear()
    again = load_table("cifar10")
    assert again.signature() == parsed.signature()
    assert np.array_equal(again.val_seeds, parsed.val_seeds, equal_nan=True)
    with np.load(cached) as npz:
        assert npz["seeds"].shape == (15625, 3)  # parsed again and rewritten
    assert not list(cached.parent.glob("*.partial.npz"))


def test_a_cache_folder_that_cannot_be_made_still_loads_the_embedded_table(fresh_home):
    fresh_home.mkdir(parents=True)
    (fresh_home / "embedded").write_text("a file where the cache folder would go")  # mkdir fails, even as root
    assert load_table("cifar10").columns["val@200"].shape == (15625,)
