"""A one-shot search as a trial: search once (timed) on the dataset's images, evaluate the derived cell."""

from __future__ import annotations

import platform
import time
from dataclasses import asdict
from typing import Any

import torch

from tnasbench.benchmarks.images import ImageData, load_images
from tnasbench.benchmarks.live import LiveBenchmark
from tnasbench.benchmarks.protocol import Benchmark
from tnasbench.benchmarks.tables import data_home
from tnasbench.errors import TnasbenchError
from tnasbench.searchers.oneshot import OneShotSearcher
from tnasbench.space import Arch, nb201_space
from tnasbench.store import Observation
from tnasbench.suite import TrialSpec

TORCHVISION_NAMES = {"cifar10": "CIFAR10", "cifar100": "CIFAR100"}


def one_shot_data(spec: TrialSpec, benchmark: Benchmark) -> ImageData:
    """The images a one-shot search trains its supernet on: the live benchmark's; for a tabular dataset an
    image folder ``$TNASBENCH_HOME/images/<dataset>`` (train/ and test/ class folders), else torchvision's."""
    if isinstance(benchmark, LiveBenchmark):
        return benchmark.data
    folder = data_home() / "images" / spec.dataset
    if folder.is_dir():
        return load_images(f"folder/{folder}")
    if spec.dataset not in TORCHVISION_NAMES:
        raise TnasbenchError(
            f"a one-shot search on {spec.dataset} needs its images in {folder} (train/<class>/, test/<class>/)"
        )
    root = data_home() / "torchvision"
    try:
        return load_images(f"torchvision/{TORCHVISION_NAMES[spec.dataset]}", str(root), False)
    except TnasbenchError as error:
        raise TnasbenchError(
            f"a one-shot search on {spec.dataset} needs its images under {root} ({error}); on a networked machine: "
            f"torchvision.datasets.{TORCHVISION_NAMES[spec.dataset]}('{root}', download=True)"
        ) from None


def run_one_shot(
    spec: TrialSpec, searcher: OneShotSearcher, benchmark: Benchmark
) -> tuple[list[Observation], dict[str, Any]]:
    """Search once (timed), evaluate the derived cell once: one observation whose cost is measured."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = one_shot_data(spec, benchmark)
    start = time.perf_counter()
    arch = searcher.search(data, spec.searcher_seed, device)
    seconds = time.perf_counter() - start
    if not isinstance(arch, Arch):
        raise TnasbenchError(f"one-shot searcher {spec.label!r} derived {arch!r}, which is not an NB201 cell")
    evaluation = benchmark.evaluate(arch)
    result = evaluation.result
    index = nb201_space().index(arch)
    regret = benchmark.optimum() - evaluation.reported
    observations = [
        Observation(1, index, result.epochs, result.accuracy, evaluation.reported, regret, seconds, seconds)
    ]
    name = torch.cuda.get_device_name() if device == "cuda" else platform.processor() or platform.machine()
    info = searcher.describe() | {
        "one_shot": True,
        "cost_kind": "measured",
        "search_seconds": round(seconds, 3),
        "device": f"{device} ({name})",
        "scale": asdict(benchmark.scale()),
    }
    return observations, info
