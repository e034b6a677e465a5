"""Meta-training on other datasets' tables: Reptile (the paper) or FSBO-style Adam (the released code).

Trained weights are cached under ``$TNASBENCH_HOME/tnas/`` (or ``$TNASBENCH_META_CACHE``) keyed by the
config, the data checksums and the meta seed, so equal meta-trainings run once.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress

from tnasbench.benchmarks.tables import data_home
from tnasbench.flat_adam import make_adam
from tnasbench.searchers.protocol import MetaTable
from tnasbench.space import SearchSpace
from tnasbench.tnas.arch_encoder import CellGraphs, ListedGraphs, cell_graphs
from tnasbench.tnas.config import CACHE_VARIABLE, TnasConfig
from tnasbench.tnas.model import DeepKernelSurrogate

MetaGraphs = CellGraphs | ListedGraphs  # every cell of an enumerable space, or a large space's listed ones


@dataclass(frozen=True)
class MetaTask:
    """One meta-training dataset: standardised accuracies, image features if known. ``targets[i]`` is
    cell ``cells[i]``, or cell i when ``cells`` is None (a whole table)."""

    dataset: str
    targets: torch.Tensor  # [entries] float64, zero mean and unit variance
    features: torch.Tensor | None  # [classes, samples, width] for φ, or None
    cells: torch.Tensor | None = None  # the cell of each entry of a partial table

    @classmethod
    def from_accuracies(
        cls, dataset: str, accuracies: np.ndarray, features: torch.Tensor | None, cells: np.ndarray | None = None
    ) -> MetaTask:
        y = torch.as_tensor(accuracies, dtype=torch.float64)
        return cls(dataset, (y - y.mean()) / y.std(), features, None if cells is None else torch.as_tensor(cells))

    def cells_at(self, rows: torch.Tensor) -> torch.Tensor:
        """The cell indices of entries ``rows``."""
        return rows if self.cells is None else self.cells[rows]

    def checksum(self) -> str:
        digest = hashlib.sha256(self.dataset.encode() + self.targets.numpy().tobytes())
        if self.features is not None:
            digest.update(self.features.numpy().tobytes())
        if self.cells is not None:
            digest.update(self.cells.numpy().tobytes())
        return digest.hexdigest()[:16]


def task_loss(model: DeepKernelSurrogate, graphs: MetaGraphs, task: MetaTask, rows: torch.Tensor) -> torch.Tensor:
    """The GP's negative marginal likelihood of ``task``'s accuracies on a minibatch of its entries ``rows``."""
    codes = graphs.encode(model.arch_encoder, task.cells_at(rows))
    features = model.features(codes, model.data_code(task.features))
    return model.nll(features, task.targets[rows])


def reptile_update(model: torch.nn.Module, start: dict[str, torch.Tensor], step_size: float) -> None:
    """Outer Reptile step: w ← w_start + step_size · (w_task − w_start), with w_task the model's weights now."""
    with torch.no_grad():
        for name, weight in model.named_parameters():
            weight.copy_(start[name] + step_size * (weight - start[name]))


def _batch(rng: np.random.Generator, cells: int, size: int) -> torch.Tensor:
    return torch.as_tensor(rng.choice(cells, size=min(size, cells), replace=False))


def inner_loop(
    model: DeepKernelSurrogate, graphs: MetaGraphs, task: MetaTask, config: TnasConfig, rng: np.random.Generator
) -> float:
    """Adapt every weight to one task with a few Adam steps; returns the last loss."""
    optimizer = make_adam(model.parameters(), lr=config.meta_lr)
    loss = torch.tensor(float("nan"))
    for _ in range(config.inner_steps):
        optimizer.zero_grad()
        loss = task_loss(model, graphs, task, _batch(rng, len(task.targets), config.batch))
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def train_reptile(
    model: DeepKernelSurrogate, graphs: MetaGraphs, tasks: list[MetaTask], config: TnasConfig, tick: Callable
) -> dict[str, float]:
    rng = np.random.default_rng(config.meta_seed)
    losses = []
    for step in range(config.meta_steps):
        task = tasks[int(rng.integers(len(tasks)))]
        start = {name: w.detach().clone() for name, w in model.named_parameters()}
        losses.append(inner_loop(model, graphs, task, config, rng))
        reptile_update(model, start, config.reptile_step * (1 - step / config.meta_steps))
        tick()
    return {"final_inner_loss": float(np.mean(losses[-20:]))}


def validation_correlation(
    model: DeepKernelSurrogate, graphs: MetaGraphs, task: MetaTask, context: torch.Tensor, held_out: torch.Tensor
) -> float:
    """Pearson correlation between held-out accuracies and the GP's prediction from a context set (entries
    of the task)."""
    cells = task.cells_at(torch.cat([context, held_out]))
    with torch.no_grad():
        codes = graphs.encode(model.arch_encoder, cells)
        features = model.features(codes, model.data_code(task.features))
        mean, _ = model.predict(features[: len(context)], task.targets[context], features[len(context) :])
    return float(np.corrcoef(mean.numpy(), task.targets[held_out].numpy())[0, 1])


def train_fsbo(
    model: DeepKernelSurrogate, graphs: MetaGraphs, tasks: list[MetaTask], config: TnasConfig, tick: Callable
) -> dict[str, float]:
    """Adam on the pooled meta-data (one task per minibatch); keep the best checkpoint by validation Pearson."""
    rng = np.random.default_rng(config.meta_seed)
    if len({None if t.cells is None else tuple(t.cells.tolist()) for t in tasks}) > 1:
        raise ValueError("fsbo meta-training holds out the same cells of every task: its meta tables must share cells")
    cells = len(tasks[0].targets)  # entries, the same cells in every task
    held_out = torch.as_tensor(rng.choice(cells, size=cells // 10, replace=False))
    train_cells = np.setdiff1d(np.arange(cells), held_out.numpy())
    optimizer = make_adam(model.parameters(), lr=config.meta_lr)
    best, best_state = -np.inf, copy.deepcopy(model.state_dict())
    check_every = max(1, config.meta_steps // 20)
    for step in range(config.meta_steps):
        task = tasks[step % len(tasks)]
        optimizer.zero_grad()
        batch = torch.as_tensor(rng.choice(train_cells, size=min(config.batch, len(train_cells)), replace=False))
        task_loss(model, graphs, task, batch).backward()
        optimizer.step()
        if (step + 1) % check_every == 0 or step + 1 == config.meta_steps:
            context = torch.as_tensor(rng.choice(train_cells, size=min(config.batch, len(train_cells)), replace=False))
            score = np.mean([validation_correlation(model, graphs, t, context, held_out) for t in tasks])
            if score > best:
                best, best_state = score, copy.deepcopy(model.state_dict())
        tick()
    model.load_state_dict(best_state)
    return {"validation_pearson": float(best)}


def encode_cells(model: DeepKernelSurrogate, graphs: MetaGraphs) -> torch.Tensor:
    """ψ of every cell (the encoders are frozen after meta-training, so this is computed once)."""
    with torch.no_grad():
        return graphs.encode(model.arch_encoder)


def meta_graphs(space: SearchSpace, tables: Sequence[MetaTable]) -> tuple[MetaGraphs, list[np.ndarray | None]]:
    """The cells meta-training encodes and, per table, the row of each of its entries: on an enumerable space
    every cell (rows are cell indices), on a large one the tables' cells listed once (tables name them)."""
    if space.enumerable:
        return cell_graphs(space), [t.cells for t in tables]
    listed: dict = {}
    rows = []
    for table in tables:
        cells = [space.parse(str(text)) for text in table.cells]
        rows.append(np.array([listed.setdefault(cell, len(listed)) for cell in cells], dtype=np.int64))
    return ListedGraphs.of_cells(space, list(listed)), rows


def meta_trained(
    config: TnasConfig, use_data: bool, graphs: MetaGraphs, tasks: list[MetaTask], progress: bool = False
) -> tuple[DeepKernelSurrogate, torch.Tensor, dict]:
    """The meta-trained surrogate for these tasks and the codes of all cells, cached on disk."""
    torch.manual_seed(config.meta_seed)
    model = DeepKernelSurrogate(config, use_data, graphs)
    if config.meta_training == "none":
        return model, encode_cells(model, graphs), {"meta_training": "none"}
    key = config.meta_key(sorted(t.checksum() for t in tasks) + [f"data_encoder={use_data}", *graphs.key()])
    folder = Path(os.environ.get(CACHE_VARIABLE) or data_home() / "tnas")
    folder.mkdir(parents=True, exist_ok=True)
    weights, facts = folder / f"{key}.pt", folder / f"{key}.json"
    with open(folder / f"{key}.lock", "w") as lock:  # concurrent trials wait for one trainer
        fcntl.flock(lock, fcntl.LOCK_EX)
        if weights.exists() and facts.exists():
            saved = torch.load(weights, weights_only=True)
            model.load_state_dict(saved["state"])
            return model, saved["codes"], json.loads(facts.read_text()) | {"cache": "hit"}
        info = _train(model, graphs, tasks, config, progress) | {"cache_key": key}
        codes = encode_cells(model, graphs)
        _save_atomically(weights, lambda path: torch.save({"state": model.state_dict(), "codes": codes}, path))
        _save_atomically(facts, lambda path: Path(path).write_text(json.dumps(info, sort_keys=True)))
    return model, codes, info | {"cache": "miss"}


def _train(
    model: DeepKernelSurrogate, graphs: MetaGraphs, tasks: list[MetaTask], config: TnasConfig, progress: bool
) -> dict:
    train = train_reptile if config.meta_training == "reptile" else train_fsbo
    start = time.perf_counter()
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"TNAS meta-training ({config.meta_training})", total=config.meta_steps)
        info = train(model, graphs, tasks, config, lambda: bar.advance(task))
    return info | {
        "meta_training": config.meta_training,
        "meta_datasets": [t.dataset for t in tasks],
        "meta_seconds": round(time.perf_counter() - start, 2),
    }


def _save_atomically(path: Path, write: Callable[[Path], object]) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    write(partial)
    partial.replace(path)
