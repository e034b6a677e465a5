"""The benchmarks a suite can name: each says its space, datasets (tasks), metrics, how to build it for
a trial and what a transfer searcher may see (the other tasks' tables, never the target's).

Built in: ``nb201``, ``nb201-live``, ``nb201-live-tabulated``, ``transnas101-micro``, ``nasbench-graph``,
``ofa-imagenet`` (a surrogate of the MobileNetV3 space). Outside packages add
one through the ``tnasbench.benchmarks`` entry-point group (a ``BenchmarkKind``), usually made with
``tabular_kind`` from a space and its tables; tests and notebooks use ``register_benchmark``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import numpy as np

from tnasbench.benchmarks.identity import dataset_id
from tnasbench.errors import TnasbenchError

if TYPE_CHECKING:
    from tnasbench.benchmarks.protocol import Benchmark
    from tnasbench.searchers.protocol import MetaTable
    from tnasbench.suite import TrialSpec

GROUP = "tnasbench.benchmarks"
# Names of the torch-backed benchmarks' datasets and metrics, kept here (not in benchmarks/live.py, ofa.py) so
# that listing the benchmarks imports no torch. Live ones also take "torchvision/<Name>" and "folder/<path>".
LIVE_DATASETS = ("digits", "mnist", "fashion-mnist")
LIVE_METRICS = ("val", "test")
OFA_DATASET, OFA_METRIC = "imagenet", "top1-predicted"


@dataclass(frozen=True)
class BenchmarkKind:
    """What a suite's ``benchmark`` names. ``metrics[0]`` is the default objective; ``report = "auto"``
    resolves through ``auto_report(dataset)``. ``open_ended``: dataset prefixes accepted besides
    ``datasets`` (live training on any torchvision data set). ``has_cost``: evaluations carry a cost
    in seconds (budgets in seconds need it)."""

    name: str
    space: str
    datasets: tuple[str, ...]
    metrics: tuple[str, ...]
    build: Callable[[TrialSpec], Benchmark]
    meta_tables: Callable[[TrialSpec], tuple[MetaTable, ...]]
    auto_report: Callable[[str], str]
    description: str = ""
    images: Callable[[TrialSpec], Any] | None = None
    open_ended: tuple[str, ...] = ()
    noise_modes: tuple[str, ...] = ("mean",)
    has_cost: bool = True
    live: bool = False  # trains networks: takes a [live] training config, measured cost, wants a GPU
    surrogate: str = ""  # what a surrogate benchmark's numbers are (every report says it first); "" for real data
    single_task: bool = False  # one task only: no other task's table for transfer searchers to learn from
    caveat: str = ""  # a live benchmark's: which published figures its numbers cannot be compared with


def is_live(benchmark: str) -> bool:
    """Whether a suite's benchmark trains networks (the ``[live]`` table applies to it)."""
    return benchmark_kind(benchmark).live


def tabular_kind(
    name: str,
    space: str,
    datasets: tuple[str, ...],
    columns: Callable[[str], dict[str, np.ndarray]],
    objective: str,
    report: str,
    cost: str | None = None,
    description: str = "",
) -> BenchmarkKind:
    """A one-fidelity tabular benchmark: ``columns(dataset)`` gives each metric per cell in the space's
    index order (``cost`` names the column of evaluation seconds, if any). Transfer searchers see every
    other dataset's ``objective`` column (leave-one-task-out)."""
    metrics = tuple(dict.fromkeys(m for m in (objective, report) if m))  # the objective first, no repeat

    def build(spec: TrialSpec) -> Benchmark:
        from tnasbench.benchmarks.tabular import TableBenchmark
        from tnasbench.space import get_space

        table = columns(spec.dataset)
        chosen = report if spec.report == "auto" else spec.report
        return TableBenchmark(get_space(space), spec.dataset, table, spec.objective, chosen, table.get(cost))

    def meta_tables(spec: TrialSpec) -> tuple[MetaTable, ...]:
        from tnasbench.searchers.protocol import MetaTable

        target = dataset_id(spec.dataset)
        return tuple(
            MetaTable(other, spec.objective, np.asarray(columns(other)[spec.objective], dtype=float).copy())
            for other in datasets
            if dataset_id(other) != target
        )

    return BenchmarkKind(
        name,
        space,
        datasets,
        metrics,
        build,
        meta_tables,
        lambda dataset: report,
        description,
        has_cost=cost is not None,
    )


# --- the built-in benchmarks ---------------------------------------------------


def _nb201_build(spec: TrialSpec) -> Benchmark:
    from tnasbench.benchmarks.tabular import TabularBenchmark

    return TabularBenchmark(spec.dataset, spec.objective, spec.report, spec.noise, spec.benchmark_seed)


def _nb201_meta_tables(spec: TrialSpec) -> tuple[MetaTable, ...]:
    """Every NB201 dataset's table but the target's (by identity, so a live ``torchvision/CIFAR10``
    target gets no CIFAR-10 table); the objective's metric where a table has it, else val@200."""
    from tnasbench.benchmarks.tables import DATASETS, load_table
    from tnasbench.searchers.protocol import MetaTable

    tables = []
    for dataset in DATASETS:
        if dataset_id(dataset) == dataset_id(spec.dataset):
            continue
        table = load_table(dataset)
        metric = spec.objective if spec.objective in table.columns else "val@200"
        tables.append(MetaTable(dataset, metric, table.column(metric).copy()))
    return tuple(tables)


def _nb201_report(dataset: str) -> str:
    from tnasbench.benchmarks.tabular import resolve_report

    return resolve_report(dataset, "auto")


def _live_build(spec: TrialSpec) -> Benchmark:
    from tnasbench.benchmarks.live import LiveBenchmark, TrainingConfig

    return LiveBenchmark(spec.dataset, TrainingConfig.from_json(spec.live), seed=spec.benchmark_seed)


def _live_tabulated_build(spec: TrialSpec) -> Benchmark:
    from tnasbench.benchmarks.live import LiveBenchmark, TrainingConfig
    from tnasbench.benchmarks.tabulated import tabulated_signature

    config, meta = TrainingConfig.from_json(spec.live), tabulated_signature("nb201", spec.dataset)
    return LiveBenchmark(spec.dataset, config, spec.benchmark_seed, meta_signature=meta)


def _mbv3_live_build(spec: TrialSpec) -> Benchmark:
    from tnasbench.benchmarks import ofa
    from tnasbench.benchmarks.live import LiveBenchmark, TrainingConfig
    from tnasbench.benchmarks.tabulated import tabulated_signature

    meta = tabulated_signature("mobilenetv3", spec.dataset) | (ofa.imagenet_meta_signature() if ofa.imported() else {})
    config = TrainingConfig.from_json(spec.live)
    return LiveBenchmark(spec.dataset, config, spec.benchmark_seed, meta_signature=meta, space="mobilenetv3")


def _mbv3_meta_tables(spec: TrialSpec) -> tuple[MetaTable, ...]:
    """The other datasets' imported tabulated MobileNetV3 tables (with images), and the ImageNet predictor's
    sample (no images) where the predictor is imported: whichever are there."""
    from tnasbench.benchmarks import ofa
    from tnasbench.benchmarks.tabulated import tabulated_meta_tables

    tables = tabulated_meta_tables("mobilenetv3", spec.dataset, spec.objective, required=False)
    return tables + ((ofa.imagenet_meta_table(),) if ofa.imported() else ())


def _tabulated_meta_tables(spec: TrialSpec) -> tuple[MetaTable, ...]:
    from tnasbench.benchmarks.tabulated import tabulated_meta_tables

    return tabulated_meta_tables("nb201", spec.dataset, spec.objective)


def _live_images(spec: TrialSpec) -> Any:
    from tnasbench.benchmarks.live import image_sample

    return image_sample(spec.dataset, seed=spec.benchmark_seed)


def _transnas_columns(task: str) -> dict[str, np.ndarray]:
    from tnasbench.benchmarks.transnas import load_tasks

    return {"val": load_tasks()[0][task]}


def _graph_columns(dataset: str) -> dict[str, np.ndarray]:
    from tnasbench.benchmarks.graph import graph_columns

    return graph_columns(dataset)


def _ofa_build(spec: TrialSpec) -> Benchmark:
    from tnasbench.benchmarks.ofa import OfaImagenetBenchmark

    return OfaImagenetBenchmark(spec.dataset)


def _builtin() -> dict[str, BenchmarkKind]:
    from tnasbench.benchmarks.graph import GRAPH_DATASETS
    from tnasbench.benchmarks.tables import DATASETS, METRICS
    from tnasbench.benchmarks.tabular import NOISE_MODES
    from tnasbench.benchmarks.transnas import TASKS

    kinds = [
        BenchmarkKind(
            "nb201", "nb201", DATASETS, METRICS, _nb201_build, _nb201_meta_tables, _nb201_report,
            "NAS-Bench-201 tables (embedded validation and training time; test and 12-epoch by import)",
            noise_modes=NOISE_MODES,
        ),
        BenchmarkKind(
            "nb201-live", "nb201", LIVE_DATASETS, LIVE_METRICS, _live_build, _nb201_meta_tables, lambda d: "test",
            "the NB201 network trained live on real images", images=_live_images,
            open_ended=("torchvision/", "folder/"), live=True,
        ),
        BenchmarkKind(
            "nb201-live-tabulated", "nb201", LIVE_DATASETS, LIVE_METRICS, _live_tabulated_build,
            _tabulated_meta_tables, lambda d: "test",
            "the NB201 network trained live; transfer searchers see the other datasets' imported tabulated tables "
            "(tnasbench tabulate, then data import) with their images", images=_live_images,
            open_ended=("torchvision/", "folder/"), live=True,
        ),
        BenchmarkKind(
            "mbv3-live", "mobilenetv3", LIVE_DATASETS, LIVE_METRICS, _mbv3_live_build, _mbv3_meta_tables,
            lambda d: "test",
            "MobileNetV3 (OFA's space) subnets trained from scratch on real images at a declared [live] recipe "
            "(width_multiplier, resolution, epochs); transfer searchers see the other datasets' imported "
            "tabulated tables and the ImageNet predictor's sample", images=_live_images,
            open_ended=("torchvision/", "folder/"), live=True,
            caveat="Subnets are trained from scratch here, so these numbers cannot be compared with the paper's "
            "MobileNetV3 results (subnets of OFA's ImageNet-trained supernet fine-tuned on CIFAR-10/100, Aircraft and "
            "Pets: neither the supernet's weights nor those images are obtainable here)",
        ),
        tabular_kind(
            "transnas101-micro", "transnas101-micro", tuple(TASKS), _transnas_columns, "val", "val",
            description="TransNAS-Bench-101 micro, 7 tasks, validation metric (import NASLib's zip)",
        ),
        tabular_kind(
            "nasbench-graph", "nasbench-graph", GRAPH_DATASETS, _graph_columns, "val", "test",
            description="NAS-Bench-Graph, 8 graph datasets (embedded): valid_perf searched, test perf reported",
        ),
        BenchmarkKind(
            "ofa-imagenet", "mobilenetv3", (OFA_DATASET,), (OFA_METRIC,), _ofa_build, lambda spec: (),
            lambda d: OFA_METRIC,
            "SURROGATE: OFA's ImageNet accuracy predictor on the MobileNetV3 space (1.1e20 subnets; import "
            "acc_predictor.pth); no network is trained", has_cost=False, single_task=True,
            surrogate="every accuracy is the prediction of OFA's ImageNet accuracy predictor for a MobileNetV3 "
            "subnet: no network was trained and evaluations cost nothing; regret is measured from the best "
            "prediction a seeded reference search found (recorded at import), not a proven optimum. These numbers "
            "cannot be compared with the paper's MobileNetV3 results (subnets fine-tuned from OFA's supernet on "
            "CIFAR-10/100, Aircraft and Pets, which cannot be reproduced here)",
        ),
    ]  # fmt: skip
    return {kind.name: kind for kind in kinds}


_runtime: dict[str, BenchmarkKind] = {}


def register_benchmark(kind: BenchmarkKind) -> BenchmarkKind:
    """Register a benchmark in this process (tests, notebooks); a package uses the entry point instead."""
    _runtime[kind.name] = kind
    return kind


@cache
def _installed() -> dict[str, BenchmarkKind]:
    kinds = _builtin()
    for ep in entry_points(group=GROUP):
        try:
            kind = ep.load()
        except Exception as error:  # a plugin's import error must name the plugin
            raise TnasbenchError(f"benchmark plugin {ep.name!r} ({ep.value}) failed to import: {error}") from None
        if not isinstance(kind, BenchmarkKind):
            raise TnasbenchError(f"benchmark plugin {ep.name!r} ({ep.value}) is not a tnasbench BenchmarkKind")
        kinds[ep.name] = kind
    return kinds


def check_shippable(names: set[str]) -> None:
    """Worker processes find benchmarks by entry point; one registered at run time exists only here."""
    local = sorted(name for name in names if name in _runtime)
    if local:
        raise TnasbenchError(
            f"benchmark {local[0]!r} was registered in this process only, so worker processes cannot build it: "
            "run with --jobs 1, or register it (and its space) by entry point"
        )


def benchmark_names() -> list[str]:
    return sorted(set(_installed()) | set(_runtime))


def benchmark_kind(name: str) -> BenchmarkKind:
    """The benchmark a suite names, with a clear error naming the registered ones."""
    found = _runtime.get(name) or _installed().get(name)
    if found is None:
        close = difflib.get_close_matches(str(name), benchmark_names(), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(benchmark_names())}"
        raise TnasbenchError(f"unknown benchmark {name!r} ({hint})")
    return found
