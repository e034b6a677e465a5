"""``tnasbench data import``: bring NB201 tables from other sources into the cache."""

from __future__ import annotations

import csv
import hashlib
import io
import pickle
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from tnasbench.benchmarks.tables import DATASETS, METRICS, load_table, write_imported
from tnasbench.errors import TnasbenchError
from tnasbench.space import NUM_CELLS, Arch, nb201_space

KNOWN_SHA256 = {  # the CSV tables known to be right, whatever a copy of one is called
    "nats_tss_test_acc_200ep.csv": "cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e",
    "nb201_12ep_val_test_acc.csv": "cc24dfdc27306624280d2479190e179287d2df61583a62478464b345fd774bbc",
}
SOURCE_OF = {  # the metrics each known CSV provides, and the file that adds them
    "test@200": "nats_tss_test_acc_200ep.csv",
    "val@12": "nb201_12ep_val_test_acc.csv",
    "test@12": "nb201_12ep_val_test_acc.csv",
}
# (cell index, accuracy) of the published optimum of each dataset's 200-epoch test accuracy.
TEST200_OPTIMA = {"cifar10": (6111, 94.373), "cifar100": (9930, 73.513), "imagenet16-120": (857, 47.311)}
TEST200_COLUMNS = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "imagenet16-120": "ImageNetTestAccuracy200Epochs",
}
EPOCH12_PREFIX = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16-120": "imagenet"}
NASLIB_FILES = {
    "cifar10": ("nb201_cifar10_full_training.pickle", "cifar10-valid"),
    "cifar100": ("nb201_cifar100_full_training.pickle", "cifar100"),
    "imagenet16-120": ("nb201_ImageNet16_full_training.pickle", "ImageNet16-120"),
}
NATS_NAMES = {
    "cifar10": ("cifar10-valid", "cifar10"),
    "cifar100": ("cifar100", "cifar100"),
    "imagenet16-120": ("ImageNet16-120", "ImageNet16-120"),
}  # (validation run, test run)


def import_source(path: str | Path) -> dict[str, str]:
    """Import one source file (or NATS-Bench folder); returns {metric: origin} written to the cache."""
    return import_sources([path])


def import_sources(paths: list[str | Path]) -> dict[str, str]:
    """Read and check every source first, then write them all: a bad one leaves the cache as it was.

    NB201 tables (CSV, NASLib pickle, NATS-Bench), TransNAS-Bench-101's zip, ``tnasbench tabulate``'s
    ``.npz`` tables and OFA's ``acc_predictor.pth`` are recognised by name."""
    from tnasbench.benchmarks import ofa, transnas
    from tnasbench.benchmarks.tabulated import check_table, import_tabulated

    zips = [Path(p) for p in paths if Path(p).suffix == ".zip"]
    for path in zips:
        if not path.is_file():
            raise TnasbenchError(
                f"{path}: no such file (NASLib's {transnas.ZIP_NAME} ships in ../shared/data/transnas101/)"
            )
    tasks = [(transnas.read_zip(path), f"{path.name} (sha256 {transnas.ZIP_SHA256[:12]})") for path in zips]
    tabulated = [(Path(p), *check_table(Path(p))) for p in paths if Path(p).suffix == ".npz"]
    predictors = [Path(p) for p in paths if Path(p).suffix == ".pth"]
    for path in predictors:
        ofa.read_predictor(path)
    read = [read_source(Path(path)) for path in paths if Path(path).suffix not in (".zip", ".npz", ".pth")]
    written = {}
    for path in predictors:
        written["ofa-imagenet predictor"] = ofa.import_predictor(path)
    for path, arrays, manifest in tabulated:
        name = f"tabulated {manifest['space']}/{manifest['dataset']} ({len(arrays['val'])} cells)"
        written[name] = import_tabulated(path, manifest)
    for values, origin in tasks:
        transnas.import_zip(values, origin)
        written["transnas101-micro (7 tasks)"] = origin
    for columns, origin in read:
        for metric, arrays in columns.items():
            write_imported(metric, arrays, origin)
            written[metric] = origin
    return written


def read_source(path: Path) -> tuple[dict[str, dict[str, np.ndarray]], str]:
    """The checked columns of one source and where they came from; any problem is one TnasbenchError.

    A CSV is checked by content: the sha256 of the bytes read must be that of a known table.
    """
    if not path.exists():
        raise TnasbenchError(f"{path}: no such file (the NB201 CSVs ship in ../shared/data/nb201/)")
    if path.is_dir() and (path.suffix == ".csv" or path.name.endswith(".pickle")):
        raise TnasbenchError(f"{path} is a folder: pass the table file itself")
    try:
        content = path.read_bytes() if path.is_file() else b""
    except OSError as error:
        raise TnasbenchError(f"{path}: cannot read it ({error.strerror})") from None
    digest = hashlib.sha256(content).hexdigest() if path.is_file() else ""
    if path.suffix == ".csv":
        columns = _import_csv(path, content)
    elif path.name.endswith(".pickle"):
        columns = _import_naslib(path)
    elif path.is_dir() or "NATS-tss" in path.name:
        columns = _import_nats(path)
    else:
        raise TnasbenchError(
            f"{path}: unknown table format (expected an NB201 CSV, a NASLib nb201_*.pickle or a NATS-Bench tss file)"
        )
    for metric, arrays in columns.items():
        _check_values(path, metric, arrays)
    if path.suffix == ".csv" and digest not in KNOWN_SHA256.values():  # the last check: the others say more
        known = ", ".join(f"{name} ({sha[:12]})" for name, sha in KNOWN_SHA256.items())
        raise TnasbenchError(
            f"{path} has sha256 {digest}, not that of a known NB201 table ({known}): the file is corrupt "
            "or altered; use the original from ../shared/data/nb201"
        )
    return columns, f"{path.name}" + (f" (sha256 {digest[:12]})" if digest else "")


def _check_rows(path: Path, strings: list[str]) -> None:
    """Every table must list the 15,625 cells in NATS-Bench index order."""
    if len(strings) != NUM_CELLS:
        raise TnasbenchError(f"{path}: {len(strings)} rows, expected {NUM_CELLS} (truncated file?)")
    space = nb201_space()
    for i, text in enumerate(strings):
        if text != space.arch(i).to_string():
            raise TnasbenchError(f"{path}: row {i} is {text!r}, expected cell {i} {space.arch(i)} (rows reordered?)")


def _check_values(path: Path, metric: str, arrays: dict[str, np.ndarray]) -> None:
    for dataset, values in arrays.items():
        if values.shape != (NUM_CELLS,) or not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 100:
            raise TnasbenchError(f"{path}: {metric} on {dataset} is not 15,625 accuracies in [0, 100]")
        if metric == "test@200":
            index, best = TEST200_OPTIMA[dataset]
            if int(np.argmax(values)) != index or abs(values.max() - best) > 0.01:
                raise TnasbenchError(
                    f"{path}: {dataset} test@200 peaks at cell {int(np.argmax(values))} ({values.max():.3f}), "
                    f"the published optimum is cell {index} ({best}): wrong table or order"
                )
        if metric.startswith("val@200"):  # an import must agree with the embedded validation table
            rho = spearmanr(values, load_table(dataset).column("val@200")).statistic
            if rho < 0.95:
                raise TnasbenchError(
                    f"{path}: {dataset} val@200 has Spearman {rho:.2f} with the embedded table "
                    "(op order or cell mapping wrong?)"
                )


def _import_csv(path: Path, content: bytes) -> dict[str, dict[str, np.ndarray]]:
    try:
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as error:
        raise TnasbenchError(
            f"{path}: not a CSV text file ({error}): pass an NB201 table from ../shared/data/nb201"
        ) from None
    header = set(rows[0]) if rows else set()
    try:
        if set(TEST200_COLUMNS.values()) <= header:
            _check_rows(path, [r.get("ArchitectureString") for r in rows])
            return {"test@200": {d: np.array([float(r[c]) for r in rows]) for d, c in TEST200_COLUMNS.items()}}
        if {f"{p}-{s}" for p in EPOCH12_PREFIX.values() for s in ("val", "test")} <= header:
            _check_rows(path, [r.get("ArchitectureString") for r in rows])
            return {
                f"{split}@12": {
                    d: np.array([float(r[f"{p}-{split}"]) for r in rows]) for d, p in EPOCH12_PREFIX.items()
                }
                for split in ("val", "test")
            }
    except (ValueError, TypeError):
        raise TnasbenchError(f"{path}: a value is not a number (corrupt file?)") from None
    raise TnasbenchError(
        f"{path}: unknown CSV columns {sorted(header)[:6]}... (expected the NB201 tables of ../shared/data/nb201)"
    )


def _import_naslib(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """NASLib's ``nb201_<dataset>_full_training.pickle``: {cell string: {dataset: {'eval_acc1es': [...]}}}."""
    matches = [d for d, (name, _) in NASLIB_FILES.items() if name == path.name]
    if not matches:
        raise TnasbenchError(f"{path}: expected one of {', '.join(n for n, _ in NASLIB_FILES.values())}")
    dataset, key = matches[0], NASLIB_FILES[matches[0]][1]
    try:
        with open(path, "rb") as f:
            data = pickle.load(f)
        space = nb201_space()
        values = np.full(NUM_CELLS, np.nan)
        for text, entry in data.items():
            values[space.index(Arch.from_string(text))] = float(entry[key]["eval_acc1es"][-1])
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, AttributeError) as error:
        raise TnasbenchError(f"{path}: not a NASLib NB201 table ({type(error).__name__}: {error})") from None
    if np.isnan(values).any():
        raise TnasbenchError(f"{path}: {int(np.isnan(values).sum())} of {NUM_CELLS} cells missing (truncated file?)")
    return {"val@200": {dataset: values}}


def _import_nats(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """Official NATS-Bench ``tss`` files, read with the published ``nats_bench`` package."""
    try:
        from nats_bench import create
    except ImportError:
        raise TnasbenchError(
            "reading NATS-Bench files needs the nats_bench package: pip install 'tnasbench[nats]'"
        ) from None
    try:
        api = create(str(path), "tss", fast_mode=True, verbose=False)
        _check_rows(path, [api.arch(i) for i in range(NUM_CELLS)])
        out: dict[str, dict[str, np.ndarray]] = {m: {} for m in ("val@200", "test@200", "val@12", "test@12")}
        for dataset, (valid_run, test_run) in NATS_NAMES.items():
            for hp in ("200", "12"):
                val = [
                    api.get_more_info(i, valid_run, hp=hp, is_random=False)["valid-accuracy"] for i in range(NUM_CELLS)
                ]
                test = [
                    api.get_more_info(i, test_run, hp=hp, is_random=False)["test-accuracy"] for i in range(NUM_CELLS)
                ]
                out[f"val@{hp}"][dataset], out[f"test@{hp}"][dataset] = np.array(val), np.array(test)
    except (OSError, ValueError, KeyError, AssertionError) as error:
        raise TnasbenchError(f"{path}: not readable as NATS-Bench tss ({type(error).__name__}: {error})") from None
    return out


def data_status() -> list[tuple[str, str, str, str]]:
    """(benchmark, dataset, metric, source) for every table column: where it came from, or the command that
    adds a missing one."""
    from tnasbench.benchmarks.graph import GRAPH_DATASETS, GRAPH_METRICS, graph_source
    from tnasbench.benchmarks.ofa import ofa_status
    from tnasbench.benchmarks.tabulated import tabulated_status
    from tnasbench.benchmarks.transnas import transnas_status

    rows = []
    for dataset in DATASETS:
        table = load_table(dataset)
        for metric in sorted(set(table.columns) | set(METRICS)):
            source = table.sources.get(metric) or (
                f"missing: tnasbench data import ../shared/data/nb201/{SOURCE_OF[metric]}"
                if metric in SOURCE_OF
                else "missing"
            )
            rows.append(("nb201", dataset, metric, source))
    rows += [("transnas101-micro", *row) for row in transnas_status()]
    for dataset in GRAPH_DATASETS:
        rows += [("nasbench-graph", dataset, metric, graph_source(dataset)) for metric in GRAPH_METRICS]
    rows += [("ofa-imagenet", *row) for row in ofa_status()]
    return rows + tabulated_status()
