"""``tnasbench tabulate``: harness-built tables of a space on live image datasets (NB201 or MobileNetV3).

A recipe is a suite file (``suites/tabulate-images.toml``): a live benchmark, its datasets and training
recipe (``[live]``), and the ``tabulate-sample`` searcher whose budget is how many cells to train. The
runner trains and stores every cell (so a killed run resumes and loses no finished training: trainings
are cached one by one), then each dataset's results are exported as one ``.npz`` table with a sample of
the dataset's training images attached, for dataset encoders such as TNAS's φ.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from tnasbench import __version__
from tnasbench.errors import TnasbenchError
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.sample import SampleConfig
from tnasbench.space import SearchSpace
from tnasbench.store import Store
from tnasbench.suite import Suite, TrialSpec

FORMAT = "tnasbench-table/1"
SEARCHER = "tabulate-sample"
IMAGES_PER_CLASS = 20


def check_recipe(suite: Suite) -> None:
    """A recipe trains one sample per dataset: a live benchmark, only ``tabulate-sample``, one seed, one budget."""
    from tnasbench.benchmarks.kinds import benchmark_kind

    where = suite.path or suite.name
    if benchmark_kind(suite.benchmark).images is None:
        raise TnasbenchError(
            f"{where}: tabulate trains cells on images, but benchmark {suite.benchmark!r} has none: "
            'use benchmark = "nb201-live" or "mbv3-live"'
        )
    others = sorted({name for name, _, _ in suite.searchers} - {SEARCHER})
    if others:
        raise TnasbenchError(f"{where}: a tabulate recipe runs only the {SEARCHER} searcher, not {', '.join(others)}")
    if len(suite.searchers) != 1 or len(suite.seeds) != 1 or len(suite.budgets) != 1:
        raise TnasbenchError(f"{where}: a tabulate recipe has one [[searchers]] entry, one seed and one budget")
    from tnasbench.searchers.sample import class_sample
    from tnasbench.space import get_space

    space = get_space(benchmark_kind(suite.benchmark).space)
    classes = len(class_sample(space, 0)) if space.enumerable else None
    if classes is not None and (suite.budgets[0].evaluations or 0) > classes:
        raise TnasbenchError(
            f"{where}: the space has {classes:,} isomorphism classes, so a recipe trains at most that many cells, "
            f"not {suite.budgets[0].evaluations:,}"
        )
    if suite.budgets[0].evaluations is None:
        raise TnasbenchError(f"{where}: a tabulate recipe's budget counts cells: budgets = [{{evaluations = N}}]")


def export_tables(store: Store, specs: list[TrialSpec], out: Path) -> list[Path]:
    """One ``<dataset>.npz`` per finished trial of ``specs``: cell index, val and test accuracy (%), training
    seconds, an image sample and a manifest. A dataset whose trial has not finished is an error."""
    from tnasbench.benchmarks.kinds import benchmark_kind
    from tnasbench.benchmarks.live import image_sample
    from tnasbench.space import get_space

    statuses = store.statuses()
    unfinished = [spec.dataset for spec in specs if statuses.get(spec.key) != "done"]
    if unfinished:
        raise TnasbenchError(f"tabulate: {', '.join(unfinished)} not finished in {store.path}: run it again to resume")
    observations = store.observations()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in specs:
        sample = asdict(config_from_params(SampleConfig, json.loads(spec.params), SEARCHER))
        rows = observations[observations["trial"] == spec.key].sort_values("step")
        images = image_sample(spec.dataset, spec.benchmark_seed, IMAGES_PER_CLASS)
        space = get_space(benchmark_kind(spec.benchmark).space)
        manifest = {
            "format": FORMAT,
            "space": space.name,
            "dataset": spec.dataset,
            "training": json.loads(spec.live),
            "sample": sample | {"cells": len(rows)},
            "trial": spec.key,
            "tnasbench": __version__,
        }
        target = out / f"{spec.dataset.replace('/', '-')}.npz"
        partial = target.with_suffix(".partial.npz")
        np.savez_compressed(
            partial,
            **_cells(space, rows),
            val=rows["objective"].to_numpy(float),
            test=rows["reported"].to_numpy(float),
            seconds=rows["cost_seconds"].to_numpy(float),
            images=np.concatenate([images[label] for label in sorted(images)]).astype(np.float32),
            labels=np.concatenate([np.full(len(images[label]), label) for label in sorted(images)]),
            manifest=np.array(json.dumps(manifest, sort_keys=True)),
        )
        partial.replace(target)
        written.append(target)
    return written


def _cells(space: SearchSpace, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """A table's cells: their indices (``index``), or on a space too large to index their notation (``cell``)."""
    if space.enumerable:
        return {"index": rows["arch"].to_numpy(np.int64)}
    return {"cell": np.array([space.to_string(space.parse(text)) for text in rows["cell"]])}


def read_table(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """A tabulated table's arrays and manifest; a file that is not one is a clear error."""
    try:
        with np.load(path) as npz:
            arrays = {name: npz[name] for name in npz.files}
        manifest = json.loads(str(arrays.pop("manifest")))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"no {FORMAT} manifest")
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise TnasbenchError(f"{path} is not a tabulated table ({error}): tnasbench tabulate writes them") from None
    return arrays, manifest
