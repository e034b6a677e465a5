import pickle
import shutil

import numpy as np
import pytest

from tnasbench.benchmarks.importers import KNOWN_SHA256, data_status, import_source
from tnasbench.benchmarks.tables import load_table
from tnasbench.errors import TnasbenchError
from tnasbench.space import nb201_space
from tnasbench.testing import EPOCH12, TEST200


def test_embedded_table_has_the_documented_optima():
    for dataset, index, best in (
        ("cifar10", 6111, 91.607),
        ("cifar100", 9930, 73.493),
        ("imagenet16-120", 10676, 46.733),
    ):
        val = load_table(dataset).column("val@200")
        assert int(np.argmax(val)) == index
        assert val.max() == pytest.approx(best, abs=1e-3)


def test_embedded_per_seed_table_has_two_or_three_seeds():
    seeds = load_table("cifar10").val_seeds
    counts = (~np.isnan(seeds)).sum(axis=1)
    assert set(counts.tolist()) == {2, 3}
    assert (counts == 2).sum() == 7456
    assert np.allclose(np.nanmean(seeds, axis=1), load_table("cifar10").column("val@200"))


def test_import_adds_test_and_12_epoch_metrics(fresh_home):
    assert "test@200" not in load_table("cifar10").columns
    written = import_source(TEST200) | import_source(EPOCH12)
    assert set(written) == {"test@200", "val@12", "test@12"}
    load_table.cache_clear()
    table = load_table("cifar10")
    assert table.column("test@200").max() == pytest.approx(94.373, abs=1e-3)
    assert table.column("test@12").max() == pytest.approx(89.16, abs=1e-2)
    assert (table.column("train_time@12") < table.column("train_time@200")).all()
    assert "derived" not in table.sources["train_time@200"] and "12/200" in table.sources["train_time@12"]
    assert {(d, m) for _, d, m, _ in data_status()} >= {("imagenet16-120", "test@200"), ("cifar100", "val@12")}


def test_wrong_checksum_is_refused_with_the_expected_one(fresh_home, tmp_path):
    corrupt = tmp_path / TEST200.name
    lines = TEST200.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(".", ".1", 1)  # one accuracy a little off
    corrupt.write_text("".join(lines))
    with pytest.raises(TnasbenchError, match=f"not that of a known NB201 table .*{KNOWN_SHA256[TEST200.name][:12]}"):
        import_source(corrupt)


@pytest.mark.parametrize("name", ["renamed.csv", "nb201_12ep_val_test_acc.csv"])
@pytest.mark.parametrize("change", ["shuffled values", "random values"])
def test_an_altered_table_is_refused_whatever_it_is_called(fresh_home, tmp_path, name, change):
    lines = EPOCH12.read_text().splitlines(keepends=True)
    header, rows = lines[0], [line.split(",") for line in lines[1:]]
    column = header.split(",").index("cifar10-val")
    values = [row[column] for row in rows]
    rng = np.random.default_rng(0)
    new = (
        rng.permutation(values) if change == "shuffled values" else [f"{v:.3f}" for v in rng.uniform(0, 90, len(rows))]
    )
    for row, value in zip(rows, new, strict=True):
        row[column] = str(value)
    (tmp_path / name).write_text(header + "".join(",".join(row) for row in rows))
    with pytest.raises(TnasbenchError, match="not that of a known NB201 table"):
        import_source(tmp_path / name)
    assert not (fresh_home / "nb201").exists()  # the cache is untouched


def test_a_binary_or_non_utf8_csv_is_one_clear_error(fresh_home, tmp_path):
    (tmp_path / "x.csv").write_bytes(np.random.default_rng(0).bytes(100_000))
    with pytest.raises(TnasbenchError, match="not a CSV text file"):
        import_source(tmp_path / "x.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(TnasbenchError, match="is a folder: pass the table file itself"):
        import_source(tmp_path / "folder.csv")


def test_truncated_table_is_refused(fresh_home, tmp_path):
    truncated = tmp_path / "test200_truncated.csv"
    truncated.write_text("".join(TEST200.read_text().splitlines(keepends=True)[:1000]))
    with pytest.raises(TnasbenchError, match="999 rows, expected 15625"):
        import_source(truncated)


def test_shuffled_table_is_refused(fresh_home, tmp_path):
    lines = TEST200.read_text().splitlines(keepends=True)
    lines[5], lines[6] = lines[6], lines[5]
    shuffled = tmp_path / "test200_shuffled.csv"
    shuffled.write_text("".join(lines))
    with pytest.raises(TnasbenchError, match="row 4 .*rows reordered"):
        import_source(shuffled)


def test_table_with_a_wrong_optimum_is_refused(fresh_home, tmp_path):
    lines = TEST200.read_text().splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[0] = "99.9"
    lines[1] = ",".join(cells)
    altered = tmp_path / "test200_altered.csv"
    altered.write_text("".join(lines))
    with pytest.raises(TnasbenchError, match="published optimum is cell 6111"):
        import_source(altered)


def test_missing_file_and_unknown_format_are_clear(fresh_home, tmp_path):
    with pytest.raises(TnasbenchError, match="no such file"):
        import_source(tmp_path / "nope.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(TnasbenchError, match="unknown CSV columns"):
        import_source(other)


def test_corrupt_cache_file_is_detected(fresh_home):
    import_source(TEST200)
    cached = fresh_home / "nb201" / "test@200.npz"
    cached.write_bytes(cached.read_bytes()[:-10] + b"0123456789")
    load_table.cache_clear()
    with pytest.raises(TnasbenchError, match="missing or corrupt .*expected sha256"):
        load_table("cifar10")


def _naslib_pickle(path, values_by_index, key="cifar10-valid"):
    space = nb201_space()
    data = {
        space.arch(i).to_string(): {key: {"eval_acc1es": [0.0, float(v)], "cost_info": {}}}
        for i, v in enumerate(values_by_index)
    }
    path.write_bytes(pickle.dumps(data))
    return path


def test_naslib_pickle_import(fresh_home, tmp_path):
    embedded = load_table("cifar10").column("val@200")
    path = _naslib_pickle(tmp_path / "nb201_cifar10_full_training.pickle", embedded + 0.01)
    assert import_source(path) == {"val@200": "nb201_cifar10_full_training.pickle (sha256 " + _sha(path)[:12] + ")"}
    load_table.cache_clear()
    assert np.allclose(load_table("cifar10").column("val@200"), embedded + 0.01)
    assert "replaces the embedded column" in load_table("cifar10").sources["val@200"]


def test_naslib_pickle_in_the_wrong_op_order_is_refused(fresh_home, tmp_path):
    embedded = load_table("cifar10").column("val@200")
    scrambled = np.random.default_rng(0).permutation(embedded)
    path = _naslib_pickle(tmp_path / "nb201_cifar10_full_training.pickle", scrambled)
    with pytest.raises(TnasbenchError, match="Spearman"):
        import_source(path)


def test_naslib_pickle_with_missing_cells_is_refused(fresh_home, tmp_path):
    path = _naslib_pickle(tmp_path / "nb201_cifar10_full_training.pickle", np.full(15625, 50.0))
    data = pickle.loads(path.read_bytes())
    data.pop(next(iter(data)))
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(TnasbenchError, match="1 of 15625 cells missing"):
        import_source(path)


def test_nats_folder_without_a_readable_benchmark_is_a_clear_error(fresh_home, tmp_path):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    with pytest.raises(TnasbenchError, match="nats_bench|NATS-Bench"):
        import_source(folder)


def _sha(path):
    from tnasbench.benchmarks.tables import sha256_file

    return sha256_file(path)


def test_reimport_replaces_the_cached_metric(fresh_home, tmp_path):
    import_source(TEST200)
    copy = tmp_path / TEST200.name
    shutil.copy(TEST200, copy)
    import_source(copy)
    assert len(list((fresh_home / "nb201").glob("test@200*.npz"))) == 1
