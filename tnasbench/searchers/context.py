"""Build what a trial's searcher may see: other datasets' tables, never the target's."""

from __future__ import annotations

import torch

from tnasbench.benchmarks.identity import dataset_id
from tnasbench.benchmarks.tables import DATASETS, load_table
from tnasbench.searchers.protocol import MetaTable, SearchContext
from tnasbench.suite import TrialSpec


def build_context(spec: TrialSpec) -> SearchContext:
    """Leave-one-dataset-out: meta-training tables of every NB201 dataset but the target (by identity, so a
    live ``torchvision/CIFAR10`` target gets no CIFAR-10 table)."""
    tables = []
    for dataset in DATASETS:
        if dataset_id(dataset) == dataset_id(spec.dataset):
            continue
        table = load_table(dataset)
        metric = spec.objective if spec.objective in table.columns else "val@200"
        tables.append(MetaTable(dataset, metric, table.column(metric).copy()))
    images = None
    if spec.benchmark == "nb201-live":
        from tnasbench.benchmarks.live import image_sample

        images = image_sample(spec.dataset, seed=spec.benchmark_seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # searchers with models run there (TNAS does)
    return SearchContext(spec.dataset, spec.objective, tuple(tables), images, device)
