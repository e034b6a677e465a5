"""The live benchmarks: train the network of a cell on real images (CPU or CUDA), NB201's cell network
(``nb201-live``) or a MobileNetV3 subnet (``mbv3-live``)."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tnasbench.benchmarks.images import ImageData, load_images
from tnasbench.benchmarks.kinds import LIVE_DATASETS
from tnasbench.benchmarks.protocol import Evaluation, Result, Scale
from tnasbench.benchmarks.tables import data_home
from tnasbench.errors import TnasbenchError
from tnasbench.seeding import derive_seed
from tnasbench.space.network import NB201Network, NetworkConfig

LATER_FIELDS = ("max_eval_samples", "resolution", "width_multiplier")  # [live] keys added after runs were stored
LIVE_SPACES = ("nb201", "mobilenetv3")
FULL_RESOLUTION = 224  # a MobileNetV3 subnet's resolution choice r trains at r / 224 of [live] resolution


@dataclass(frozen=True)
class TrainingConfig:
    """How a cell is trained; CPU-sized by default (a few seconds per cell on digits)."""

    epochs: int = 4
    channels: int = 8
    cells_per_stage: int = 1
    batch_size: int = 64
    learning_rate: float = 0.05
    max_train_samples: int = 0  # 0 = all
    max_eval_samples: int = 0  # validation and test images scored at most (0 = all)
    resolution: int = 0  # images area-downsampled to resolution × resolution first (0 = native)
    width_multiplier: float = 0.0  # MobileNetV3 subnets: every channel count × this (0 = 1.0, OFA's); NB201: unused
    device: str = "auto"  # auto = cuda when present, else cpu
    download: bool = False  # torchvision data sets only
    root: str = ""  # torchvision root; default $TNASBENCH_HOME/torchvision

    @classmethod
    def from_mapping(cls, values: dict[str, Any], where: Path | str = "[live]") -> TrainingConfig:
        names = [f.name for f in fields(cls)]
        for key in values:
            if key not in names:
                raise TnasbenchError(f"{where}: unknown key {key!r} in [live] (allowed: {', '.join(names)})")
        config = cls(**values)
        for key in ("max_train_samples", "max_eval_samples", "resolution"):
            value = getattr(config, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TnasbenchError(f"{where}: [live] {key} must be a whole number ≥ 0 (0 = no limit), got {value!r}")
        for key in ("epochs", "channels", "cells_per_stage", "batch_size"):
            value = getattr(config, key)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise TnasbenchError(f"{where}: [live] {key} must be a positive integer, got {value!r}")
        width = config.width_multiplier
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 <= width <= 4:
            raise TnasbenchError(
                f"{where}: [live] width_multiplier must be a number in (0, 4] (0 = 1.0), got {width!r}"
            )
        if config.resolution % 4:
            raise TnasbenchError(
                f"{where}: [live] resolution must be a multiple of 4 (the network halves it twice), "
                f"got {config.resolution}"
            )
        if config.device not in ("auto", "cpu", "cuda"):
            raise TnasbenchError(f"{where}: [live] device must be auto, cpu or cuda, got {config.device!r}")
        return config

    @classmethod
    def from_json(cls, text: str) -> TrainingConfig:
        return cls(**json.loads(text))

    def to_json(self) -> str:
        """Canonical JSON; fields added later are left out at their default, so older runs keep their keys."""
        values = asdict(self)
        for name in LATER_FIELDS:
            if values[name] == 0:
                values.pop(name)
        return json.dumps(values, sort_keys=True)

    def resolved_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise TnasbenchError("[live] device = 'cuda' but no CUDA device is available: use device = 'auto'")
        return self.device


def network_for(space: str, arch: Any, data: ImageData, config: TrainingConfig) -> tuple[nn.Module, ImageData]:
    """The network of ``arch`` and the images it trains on: a MobileNetV3 subnet sees them resized to its
    resolution choice r, as r / 224 of ``[live] resolution`` (else of the images' own size); NB201's network
    sees them as they are."""
    if space == "mobilenetv3":
        from tnasbench.space.mbv3_network import MobileNetV3Subnet
        from tnasbench.space.mobilenetv3 import mobilenetv3_space

        base = config.resolution or data.train[0].shape[-1]
        size = round(base * mobilenetv3_space().resolution(arch) / FULL_RESOLUTION)
        if size < 8:
            raise TnasbenchError(
                f"mbv3-live: a {mobilenetv3_space().resolution(arch)}-px subnet would see {size}-px images: set "
                "[live] resolution to at least 12 (the size a 224-px subnet sees)"
            )
        model = MobileNetV3Subnet(arch, data.in_channels, data.num_classes, config.width_multiplier or 1.0)
        most, kept = config.max_eval_samples or None, config.max_train_samples or None
        cut = replace(  # only the images used are resized
            data,
            train=(data.train[0][:kept], data.train[1][:kept]),
            val=(data.val[0][:most], data.val[1][:most]),
            test=(data.test[0][:most], data.test[1][:most]),
        )
        return model, resized(cut, size)
    net_config = NetworkConfig(config.channels, config.cells_per_stage, data.in_channels, data.num_classes)
    return NB201Network(arch, net_config), data


def train_cell(arch: Any, data: ImageData, config: TrainingConfig, seed: int, space: str = "nb201") -> dict[str, float]:
    """Train from scratch with SGD + cosine schedule; returns val/test accuracy (%) and seconds."""
    device = config.resolved_device()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model, data = network_for(space, arch, data, config)
    model = model.to(device)
    x, y = data.train
    if config.max_train_samples:
        x, y = x[: config.max_train_samples], y[: config.max_train_samples]
    x, y = x.to(device), y.to(device)
    steps_per_epoch = math.ceil(len(y) / config.batch_size)
    optimiser = torch.optim.SGD(
        model.parameters(), lr=config.learning_rate, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(y), generator=generator).to(device)
        for k in range(steps_per_epoch):
            batch = order[k * config.batch_size : (k + 1) * config.batch_size]
            optimiser.zero_grad(set_to_none=True)
            loss_fn(model(x[batch]), y[batch]).backward()
            optimiser.step()
            schedule.step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    scored = config.max_eval_samples or None
    return {
        "val": _accuracy(model, data.val, device, scored),
        "test": _accuracy(model, data.test, device, scored),
        "seconds": seconds,
    }


def downsampled(data: ImageData, resolution: int) -> ImageData:
    """``data`` with every split area-averaged to ``resolution`` × ``resolution`` (unchanged at 0 or native)."""
    if not resolution or resolution >= data.train[0].shape[-1]:
        return data

    def shrink(split: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return nn.functional.interpolate(split[0], size=(resolution, resolution), mode="area"), split[1]

    return replace(data, train=shrink(data.train), val=shrink(data.val), test=shrink(data.test))


def resized(data: ImageData, size: int) -> ImageData:
    """``data`` with every split resized (bilinear, antialiased) to ``size`` × ``size``; unchanged at its own size."""
    if size == data.train[0].shape[-1]:
        return data

    def resize(split: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return nn.functional.interpolate(split[0], size=(size, size), mode="bilinear", antialias=True), split[1]

    return replace(data, train=resize(data.train), val=resize(data.val), test=resize(data.test))


@torch.no_grad()
def _accuracy(model: nn.Module, split: tuple[torch.Tensor, torch.Tensor], device: str, most: int | None) -> float:
    model.eval()
    x, y = split[0][:most], split[1][:most]
    correct = sum(
        int((model(x[i : i + 1024].to(device)).argmax(1) == y[i : i + 1024].to(device)).sum())
        for i in range(0, len(y), 1024)
    )
    return 100.0 * correct / len(y)


class LiveCache:
    """Finished trainings keyed by (cell canonical key, dataset, config, seed): repeats are free."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_home() / "live-cache.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, val REAL, test REAL, seconds REAL, device TEXT)"
        )

    def get(self, key: str) -> dict[str, float] | None:
        row = self.db.execute("SELECT val, test, seconds FROM runs WHERE key=?", (key,)).fetchone()
        return dict(zip(("val", "test", "seconds"), row, strict=True)) if row else None

    def put(self, key: str, run: dict[str, float], device: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?)", (key, run["val"], run["test"], run["seconds"], device)
            )


class LiveBenchmark:
    """Evaluates a cell by training it; searchers see validation accuracy, reports score test."""

    objective, report = "val", "test"

    def __init__(
        self,
        dataset: str,
        config: TrainingConfig | None = None,
        seed: int = 0,
        cache: LiveCache | None = None,
        meta_signature: dict[str, str] | None = None,
        space: str = "nb201",
    ) -> None:
        """``meta_signature``: checksums of the meta tables transfer searchers see, part of the data signature;
        ``space``: whose networks are trained (``LIVE_SPACES``)."""
        from tnasbench.space import get_space

        if dataset not in LIVE_DATASETS and not dataset.startswith(("torchvision/", "folder/")):
            raise TnasbenchError(
                f"unknown live dataset {dataset!r}: "
                f"choose {', '.join(LIVE_DATASETS)}, torchvision/<Name> or folder/<path>"
            )
        self.dataset, self.config, self.seed = dataset, config or TrainingConfig(), seed
        if space not in LIVE_SPACES:
            raise TnasbenchError(f"no live network for the {space} space (live spaces: {', '.join(LIVE_SPACES)})")
        if space == "nb201" and self.config.width_multiplier:
            raise TnasbenchError(
                "[live] width_multiplier sizes MobileNetV3 subnets (mbv3-live); nb201-live sizes its network with "
                "channels and cells_per_stage"
            )
        self.space, self._space = space, get_space(space)
        self.needs_gpu = self.config.device == "cuda"
        self._cache = cache
        self._meta_signature = meta_signature or {}
        self._data: ImageData | None = None

    @property
    def data(self) -> ImageData:
        if self._data is None:
            root = self.config.root or str(data_home() / "torchvision")
            self._data = downsampled(load_images(self.dataset, root, self.config.download), self.config.resolution)
        return self._data

    def run_key(self, arch: Any, config: TrainingConfig | None = None) -> str:
        """The cache key: (dataset, config, seed, the cell's class); a MobileNetV3 key names its space."""
        cell = self._space.canonical_key(arch)
        prefix = "" if self.space == "nb201" else f"{self.space}|"
        return f"{prefix}{self.dataset}|{(config or self.config).to_json()}|{self.seed}|{cell}"

    def evaluate(self, arch: Any, epochs: int | None = None) -> Evaluation:
        """Train for ``[live] epochs`` (or fewer, for a low-fidelity query)."""
        cache = self._cache = self._cache or LiveCache()
        config = replace(self.config, epochs=epochs) if epochs else self.config
        key = self.run_key(arch, config)
        run = cache.get(key)
        if run is None:
            seed = derive_seed(self.seed, self._space.canonical_key(arch))
            run = train_cell(arch, self.data, config, seed, self.space)
            cache.put(key, run, config.resolved_device())
        return Evaluation(Result(run["val"], run["seconds"], "val", config.epochs), run["test"])

    def optimum(self) -> float:
        """The space is not enumerated live, so regret is measured from 100% (it is the test error)."""
        return 100.0

    def scale(self) -> Scale:
        """Accuracies run from 0 to 100%; the best cell of the space is unknown, so the ceiling too."""
        return Scale(100.0, 0.0, 100.0, 0.0, math.nan)

    def signature(self) -> dict[str, str]:
        space = {} if self.space == "nb201" else {"space": self.space}
        return {"dataset": self.dataset, "config": self.config.to_json(), **space, **self._meta_signature}


NB201_ONLY, MBV3_ONLY = ("channels", "cells_per_stage"), ("width_multiplier",)


def recipe_text(config: dict, space: str) -> str:
    """A ``[live]`` recipe as a report states it: the keys that shape the training of ``space``'s networks."""
    skipped = {"root", "download", *(NB201_ONLY if space != "nb201" else MBV3_ONLY)}
    return ", ".join(f"{key} {value}" for key, value in sorted(config.items()) if key not in skipped)


def image_sample(dataset: str, seed: int, per_class: int = 20) -> dict[int, np.ndarray]:
    """``per_class`` training images of each class of the target (for dataset encoders)."""
    x, y = load_images(dataset).train
    rng = np.random.default_rng(seed)
    sample = {}
    for label in sorted(set(y.tolist())):
        rows = np.flatnonzero(y.numpy() == label)
        sample[label] = x[rng.choice(rows, size=min(per_class, len(rows)), replace=False)].numpy()
    return sample
