"""``ofa-imagenet``: the Once-for-All authors' ImageNet accuracy predictor as a surrogate benchmark of the
MobileNetV3 space. Every number it gives is a *prediction* (top-1 %), never a trained network's accuracy.

``tnasbench data import acc_predictor.pth`` checks the file's sha256 and that it loads into the
predictor's MLP (128 -> 400 -> 400 -> 400 -> 1), copies it to ``$TNASBENCH_HOME/ofa/`` and runs the
reference search that gives regret its scale: the space has 1.1e20 subnets, so its best and worst
predicted accuracies are the most extreme that seeded evolutionary searches on the predictor
(``REFERENCE_SEEDS`` runs of ``REFERENCE_EVALUATIONS`` predictions each way, then hill-climbing) find;
the manifest records both with their cells. Regret is measured from the best known value.
The project never ships the file: users get it from the OFA authors (``DOWNLOAD_HINT``).
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tnasbench.benchmarks.kinds import OFA_DATASET, OFA_METRIC
from tnasbench.benchmarks.protocol import Evaluation, Result, Scale
from tnasbench.benchmarks.tables import data_home, sha256_file
from tnasbench.errors import TnasbenchError
from tnasbench.space.mobilenetv3 import (
    ENCODING_WIDTH,
    MobileNetV3Space,
    canonical_choices,
    encode_choices,
    mobilenetv3_space,
)

PREDICTOR_NAME = "acc_predictor.pth"
PREDICTOR_SHA256 = "48685122a3540636b06699af66cd816456b25f29b69563e2fda9bed4018eeba0"
SOURCE_HINT = f"tnasbench data import ../shared/data/ofa/{PREDICTOR_NAME}"
DOWNLOAD_HINT = "the OFA authors publish it as ofa/acc_predictor.pth in the han-cai/files repository"
REFERENCE_EVALUATIONS = 50_000  # predictions per run of the reference search
REFERENCE_SEEDS = 8  # runs per direction; the most extreme result is kept
DATASET, METRIC = OFA_DATASET, OFA_METRIC


def predictor_network() -> nn.Sequential:
    """OFA's accuracy predictor: an MLP on the space's 128-d one-hot encoding, output a fraction."""
    return nn.Sequential(
        nn.Linear(ENCODING_WIDTH, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(),
        nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 1),
    )  # fmt: skip


def read_predictor(path: Path) -> nn.Sequential:
    """The checked predictor at ``path``; any problem is one TnasbenchError naming the fix."""
    if not path.is_file():
        raise TnasbenchError(f"{path}: no such file ({DOWNLOAD_HINT}; here it ships in ../shared/data/ofa/)")
    digest = sha256_file(path)
    if digest != PREDICTOR_SHA256:
        raise TnasbenchError(
            f"{path} has sha256 {digest[:12]}, not that of OFA's {PREDICTOR_NAME} ({PREDICTOR_SHA256[:12]}): the "
            f"file is corrupt or another predictor; {DOWNLOAD_HINT}"
        )
    network = predictor_network()
    try:
        network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as error:  # a file with the right digest always loads; this guards a broken torch
        raise TnasbenchError(f"{path} does not load into OFA's predictor MLP ({error})") from None
    return network.eval()


def predict(network: nn.Module, space: MobileNetV3Space, cells: list[Any]) -> np.ndarray:
    """Predicted top-1 accuracy (%) of each cell."""
    with torch.no_grad():
        x = torch.as_tensor(space.encode("onehot", cells))
        return network(x).squeeze(-1).double().numpy() * 100.0


def _predict_rows(network: nn.Module, rows: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return network(torch.as_tensor(encode_choices(rows))).squeeze(-1).double().numpy() * 100.0


def reference_search(network: nn.Module, sign: float, seed: int = 0, evaluations: int = REFERENCE_EVALUATIONS):
    """The best (``sign`` +1) or worst (-1) predicted accuracy that an aging evolution on the predictor (population
    1,000, tournaments of 10, one random choice mutated per child) finds in ``evaluations`` predictions, with
    that cell in the space's notation."""
    space, rng, batch = mobilenetv3_space(), np.random.default_rng(seed), 500
    extreme = space.largest() if sign > 0 else space.smallest()
    widths = np.array([len(d.choices) for d in space.dimensions])
    population = canonical_choices(np.vstack([extreme.choices, rng.integers(widths, size=(999, len(widths)))]))
    scores = sign * _predict_rows(network, population)
    best = int(np.argmax(scores))
    best_score, best_row = float(scores[best]), population[best]
    for _ in range(max(0, evaluations - len(population)) // batch):
        entrants = rng.integers(len(population), size=(batch, 10))
        children = population[entrants[np.arange(batch), np.argmax(scores[entrants], axis=1)]].copy()
        dims = rng.integers(len(widths), size=batch)
        shift = rng.integers(1, widths[dims])
        children[np.arange(batch), dims] = (children[np.arange(batch), dims] + shift) % widths[dims]
        children = canonical_choices(children)
        child_scores = sign * _predict_rows(network, children)
        population, scores = np.vstack([population[batch:], children]), np.concatenate([scores[batch:], child_scores])
        top = int(np.argmax(child_scores))
        if child_scores[top] > best_score:
            best_score, best_row = float(child_scores[top]), children[top]
    cell = space.make(best_row.tolist())
    while True:  # then climb: the best single-choice neighbour while it improves
        neighbours = space.neighbours(cell)
        values = sign * predict(network, space, neighbours)
        if values.max() <= best_score:
            return sign * best_score, space.to_string(cell)
        best_score, cell = float(values.max()), neighbours[int(np.argmax(values))]


def reference_extreme(network: nn.Module, sign: float) -> tuple[float, str]:
    """The most extreme result of ``REFERENCE_SEEDS`` reference searches (seeds 0, 1, ...)."""
    found = [reference_search(network, sign, seed) for seed in range(REFERENCE_SEEDS)]
    return max(found, key=lambda item: sign * item[0])


def _folder() -> Path:
    return data_home() / "ofa"


def import_predictor(path: Path) -> str:
    """Check ``path``, run the reference searches, then copy it and write its manifest (nothing on failure)."""
    network = read_predictor(path)
    best, best_cell = reference_extreme(network, +1.0)
    worst, worst_cell = reference_extreme(network, -1.0)
    manifest = {
        "origin": f"{path.name} (sha256 {PREDICTOR_SHA256[:12]})",
        "sha256": PREDICTOR_SHA256,
        "best_known": best, "best_cell": best_cell, "worst_known": worst, "worst_cell": worst_cell,
        "reference_search": f"aging evolution on the predictor then hill-climbing, seeds 0-{REFERENCE_SEEDS - 1}, "
        f"{REFERENCE_EVALUATIONS} predictions each",
    }  # fmt: skip
    folder = _folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{PREDICTOR_NAME}.partial"
        shutil.copyfile(path, partial)
        partial.replace(folder / PREDICTOR_NAME)
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    except OSError as error:
        raise TnasbenchError(
            f"cannot write {folder} ({error.strerror}): set TNASBENCH_HOME to a folder you can write"
        ) from None
    finally:
        load_imported.cache_clear()
    return manifest["origin"]


@cache
def load_imported() -> tuple[nn.Sequential, dict[str, Any]]:
    """The imported predictor and its manifest, verified; a clear error naming the import if absent."""
    folder = _folder()
    if not (folder / PREDICTOR_NAME).is_file() or not (folder / "manifest.json").is_file():
        raise TnasbenchError(f"OFA's accuracy predictor is not imported (expected {folder}): run `{SOURCE_HINT}`")
    network = read_predictor(folder / PREDICTOR_NAME)
    return network, json.loads((folder / "manifest.json").read_text())


def ofa_status() -> list[tuple[str, str, str]]:
    """(dataset, metric, source) rows for ``tnasbench data status``."""
    try:
        _, manifest = load_imported()
    except TnasbenchError:
        return [(DATASET, METRIC, f"missing: {SOURCE_HINT}")]
    return [(DATASET, METRIC, f"{manifest['origin']}, surrogate; best known {manifest['best_known']:.2f} %")]


class OfaImagenetBenchmark:
    """Predicted ImageNet top-1 of MobileNetV3 subnets; evaluations cost nothing (no network is trained)."""

    needs_gpu = False
    epochs = 1
    objective = report = METRIC

    def __init__(self, dataset: str = DATASET) -> None:
        if dataset != DATASET:
            raise TnasbenchError(f"ofa-imagenet has one dataset, {DATASET!r}, not {dataset!r}")
        self.dataset = dataset
        self.space = mobilenetv3_space()
        self._network, self._manifest = load_imported()

    def evaluate(self, arch: Any, epochs: int | None = None) -> Evaluation:
        if epochs not in (None, self.epochs):
            raise TnasbenchError("ofa-imagenet is a surrogate with one fidelity: ask without epochs")
        value = float(predict(self._network, self.space, [self.space.index_cell(arch)])[0])
        return Evaluation(Result(value, 0.0, METRIC, self.epochs), value)

    def optimum(self) -> float:
        return float(self._manifest["best_known"])

    def scale(self) -> Scale:
        best, worst = float(self._manifest["best_known"]), float(self._manifest["worst_known"])
        return Scale(best, worst, best, worst, best)

    def signature(self) -> dict[str, str]:
        reference = f"{self._manifest['best_known']:.4f}/{self._manifest['worst_known']:.4f}"
        return {METRIC: PREDICTOR_SHA256[:16], "reference": reference}


META_CELLS = 2_000  # subnets of the ImageNet meta task (the paper meta-trains on ImageNet; here, its predictor)
META_SEED = 0  # the sample's seed: one fixed sample, the same for every target


def imported() -> bool:
    """Whether the predictor has been imported (``tnasbench data import acc_predictor.pth``)."""
    return (_folder() / PREDICTOR_NAME).is_file() and (_folder() / "manifest.json").is_file()


@cache
def imagenet_meta_table() -> Any:
    """A ``MetaTable`` of ``META_CELLS`` distinct random subnets labelled by the predictor (no images: ImageNet's
    are not here), named in the space's notation, for transfer searchers on MobileNetV3 benchmarks."""
    from tnasbench.searchers.protocol import MetaTable

    network, _ = load_imported()
    space = mobilenetv3_space()
    cells = list(dict.fromkeys(space.sample_many(np.random.default_rng(META_SEED), 2 * META_CELLS)))[:META_CELLS]
    values = predict(network, space, cells)
    return MetaTable(DATASET, METRIC, values.astype(float), None, np.array([space.to_string(c) for c in cells]))


def imagenet_meta_signature() -> dict[str, str]:
    """The ImageNet meta task's part of a data signature: the predictor and the sample."""
    return {f"meta:{DATASET}": f"{PREDICTOR_SHA256[:16]}/{META_CELLS}/{META_SEED}"}
