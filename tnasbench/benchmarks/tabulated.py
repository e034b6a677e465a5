"""Harness-built tables (``tnasbench tabulate``) imported as meta tasks: ``tnasbench data import X.npz``.

An imported table is kept as ``$TNASBENCH_HOME/tabulated/<space>/<dataset>.npz``. Benchmark
``nb201-live-tabulated`` trains the target live and gives transfer searchers every *other* imported
table of its space, with the images attached to it (so TNAS's dataset encoder φ can run).
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import numpy as np

from tnasbench.benchmarks.identity import dataset_id
from tnasbench.benchmarks.tables import data_home, sha256_file
from tnasbench.errors import TnasbenchError


def tabulated_home(space: str) -> Path:
    return data_home() / "tabulated" / space


def check_table(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """A tabulated table whose cells lie in its space and whose values are finite; else one clear error."""
    from tnasbench.space import get_space
    from tnasbench.tabulate import read_table

    arrays, manifest = read_table(path)
    space = get_space(manifest.get("space", ""))
    val = arrays.get("val")
    if space.enumerable:
        index = arrays.get("index")
        if index is None or val is None or len(index) != len(val) or len(index) == 0:
            raise TnasbenchError(f"{path}: a tabulated table needs equally long, non-empty index and val arrays")
        if index.min() < 0 or index.max() >= len(space) or len(np.unique(index)) != len(index):
            raise TnasbenchError(
                f"{path}: cell indices must be distinct and within the {len(space):,} cells of the space"
            )
    else:
        cells = arrays.get("cell")
        if cells is None or val is None or len(cells) != len(val) or len(cells) == 0:
            raise TnasbenchError(f"{path}: a tabulated {space.name} table needs equally long, non-empty cell and val")
        try:
            named = [space.to_string(space.parse(str(text))) for text in cells]
        except (TnasbenchError, ValueError) as error:
            raise TnasbenchError(f"{path}: a cell is not one of the {space.name} space ({error})") from None
        if len(set(named)) != len(named):
            raise TnasbenchError(f"{path}: the table names a {space.name} cell twice")
    if not np.isfinite(val).all() or val.std() == 0:
        raise TnasbenchError(f"{path}: validation accuracies must be finite and not all equal")
    return arrays, manifest


def import_tabulated(path: Path, manifest: dict) -> str:
    """Copy a table ``check_table`` passed (its manifest) into the cache, replacing an earlier one of that
    dataset; returns its origin."""
    folder = tabulated_home(manifest["space"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{manifest['dataset'].replace('/', '-')}.npz"
    partial = target.with_suffix(".partial.npz")
    shutil.copyfile(path, partial)
    partial.replace(target)
    _tables_in.cache_clear()
    return f"{path.name} (sha256 {sha256_file(target)[:12]})"


def imported_tables(space: str) -> dict[str, tuple[dict[str, np.ndarray], dict, str]]:
    """Every imported table of ``space``: dataset → (arrays, manifest, sha256)."""
    return _tables_in(tabulated_home(space))


@cache
def _tables_in(folder: Path) -> dict[str, tuple[dict[str, np.ndarray], dict, str]]:
    from tnasbench.tabulate import read_table

    found = {}
    for path in sorted(folder.glob("*.npz")):
        if path.name.endswith(".partial.npz"):
            continue
        arrays, manifest = read_table(path)
        found[manifest["dataset"]] = (arrays, manifest, sha256_file(path))
    return found


def tabulated_meta_tables(space: str, target: str, objective: str, required: bool = True) -> tuple:
    """The imported tables of every dataset but ``target`` (by identity), with their images; none is an error
    when ``required``. A large space's tables name their cells (``cell``), an enumerable one's index them."""
    from tnasbench.searchers.protocol import MetaTable

    tables = []
    for dataset, (arrays, _, _) in imported_tables(space).items():
        if dataset_id(dataset) == dataset_id(target):
            continue
        metric = objective if objective in arrays else "val"
        images = {int(label): arrays["images"][arrays["labels"] == label] for label in np.unique(arrays["labels"])}
        cells = arrays["index"] if "index" in arrays else arrays["cell"]
        tables.append(MetaTable(dataset, metric, arrays[metric].astype(float), images, cells))
    if not tables and required:
        raise TnasbenchError(
            f"no tabulated {space} tables of datasets other than {target!r} are imported: run `tnasbench tabulate "
            "suites/tabulate-images.toml --out tables`, then `tnasbench data import tables/*.npz`"
        )
    return tuple(tables)


def tabulated_signature(space: str, target: str) -> dict[str, str]:
    """The checksums of the meta tables a target sees: a re-tabulated table makes its trials new ones."""
    return {
        f"meta:{dataset}": sha[:16]
        for dataset, (_, _, sha) in imported_tables(space).items()
        if dataset_id(dataset) != dataset_id(target)
    }


def tabulated_status() -> list[tuple[str, str, str, str]]:
    """(benchmark, dataset, metric, source) of every imported tabulated table."""
    rows = []
    for space in sorted(p.name for p in (data_home() / "tabulated").glob("*") if p.is_dir()):
        for dataset, (arrays, _, sha) in imported_tables(space).items():
            cells = f"{len(arrays['val'])} cells"
            rows.append((f"{space}-tabulated", dataset, "val,test", f"tabulated, {cells}, sha256 {sha[:12]}"))
    return rows
