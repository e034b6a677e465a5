"""TransNAS-Bench-101 micro: the validation metric of all 4,096 cells on 7 tasks, imported from NASLib's zip.

``tnasbench data import ../shared/data/transnas101/all_benchmarks_zen.zip`` checks the file's sha256,
reads every cell of every task once, and caches one array per task (cell index order of the
``transnas101-micro`` space) in ``$TNASBENCH_HOME/transnas101/``.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import zipfile
from functools import cache
from pathlib import Path

import numpy as np

from tnasbench.benchmarks.tables import data_home, sha256_file
from tnasbench.errors import TnasbenchError
from tnasbench.space.transnas import transnas_micro_space

ZIP_NAME = "all_benchmarks_zen.zip"
ZIP_SHA256 = "d70d3ddcda2264806a467d3fb3840e8ce04c5b0129776110a62018ea68e6d7f2"
# task -> what its validation metric is (higher is better on every one)
TASKS: dict[str, str] = {
    "class_scene": "scene classification, top-1 %",
    "class_object": "object classification, top-1 %",
    "jigsaw": "jigsaw puzzle classification, top-1 %",
    "segmentsemantic": "semantic segmentation, pixel accuracy %",
    "room_layout": "room layout regression, negative L2 loss",
    "autoencoder": "autoencoding, SSIM",
    "normal": "surface normals, SSIM",
}
SOURCE_HINT = f"tnasbench data import ../shared/data/transnas101/{ZIP_NAME}"
DOWNLOAD_HINT = f"NASLib's repository (automl/NASLib) has it at naslib/data/zc_benchmarks/{ZIP_NAME}"


def _cache_file() -> Path:
    return data_home() / "transnas101" / "micro.npz"


def read_zip(path: Path) -> dict[str, np.ndarray]:
    """Every task's metric per cell (space index order), checked; any problem is one TnasbenchError."""
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if digest != ZIP_SHA256:
        raise TnasbenchError(
            f"{path} has sha256 {digest}, not that of NASLib's {ZIP_NAME} ({ZIP_SHA256[:12]}): the file is corrupt "
            f"or another version; {DOWNLOAD_HINT}"
        )
    space = transnas_micro_space()
    values = {task: np.full(len(space), np.nan) for task in TASKS}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            parts = Path(name).stem.split("--")
            if len(parts) != 4 or parts[1] != "transbench101_micro" or parts[2] not in TASKS:
                continue
            for entry in json.loads(archive.read(name)):
                index = space.index(space.make(ast.literal_eval(entry["arch"])))
                values[parts[2]][index] = float(entry["val_accuracy"])
    for task, column in values.items():
        if np.isnan(column).any():
            raise TnasbenchError(f"{path}: task {task} lacks {int(np.isnan(column).sum())} of 4,096 cells")
    return values


def import_zip(values: dict[str, np.ndarray], origin: str) -> Path:
    """Cache the tasks read by ``read_zip`` with a manifest holding the checksum."""
    target = _cache_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial.npz")
        np.savez(partial, **values)
        manifest = {"origin": origin, "sha256": sha256_file(partial)}
        partial.replace(target)
        target.with_suffix(".json").write_text(json.dumps(manifest, indent=1))
    except OSError as error:
        fix = "set TNASBENCH_HOME to a folder you can write"
        raise TnasbenchError(f"cannot write {target} ({error.strerror}): {fix}") from None
    finally:
        load_tasks.cache_clear()
    return target


@cache
def load_tasks() -> tuple[dict[str, np.ndarray], str]:
    """The cached tasks and where they came from, verified; a clear error naming the import if absent."""
    target = _cache_file()
    manifest_path = target.with_suffix(".json")
    if not manifest_path.is_file() or not target.is_file():
        raise TnasbenchError(f"TransNAS-Bench-101 is not imported (expected {target}): run `{SOURCE_HINT}`")
    manifest = json.loads(manifest_path.read_text())
    if sha256_file(target) != manifest.get("sha256"):
        raise TnasbenchError(f"cached table {target} is corrupt: run `{SOURCE_HINT}` again")
    with np.load(target) as npz:
        return {task: npz[task] for task in TASKS}, str(manifest["origin"])


def transnas_status() -> list[tuple[str, str, str]]:
    """(task, metric, source) rows for ``tnasbench data status``."""
    try:
        _, origin = load_tasks()
    except TnasbenchError:
        return [(task, "val", f"missing: {SOURCE_HINT}") for task in TASKS]
    return [(task, "val", origin) for task in TASKS]
