"""NAS-Bench-Graph (Qin et al., NeurIPS 2022): 26,206 GNN cells on 8 graph datasets, from the tables the
``nas-bench-graph`` package embeds (a pinned dependency: nothing to set up).

Per cell: ``valid_perf`` (searched, as ``val`` in percent), test ``perf`` (reported, ``test`` in percent),
inference ``latency`` (seconds) and parameters
(kept as columns for multi-objective use). ``proteins`` is left out: it has its own op set
(5 ops, 2,021 cells), so it is another space, not a task of this one.
"""

from __future__ import annotations

import pickle
from functools import cache
from importlib import resources

import numpy as np

from tnasbench.benchmarks.tables import sha256_file
from tnasbench.errors import TnasbenchError

PACKAGE = "nas_bench_graph"
GRAPH_DATASETS: tuple[str, ...] = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv")
GRAPH_METRICS: dict[str, str] = {"val": "valid_perf", "test": "perf", "latency": "latency", "params": "para"}
BENCH_SHA256 = {  # nas-bench-graph 1.4.0's light/<dataset>.bench
    "cora": "5e69b2f9bb08d8927d9ffd4921f8494a3cea349c9c3a461334cb9dc9e11701a8",
    "citeseer": "99c7f79b73372636305bf73fb32a58b63c57bd1871a152dd62ec72d984c8c50f",
    "pubmed": "10b4dcf6cfd3a24f6059f7d541a4a872960b4adac0b3dba26abed1bb9a3d904d",
    "cs": "71ae8469930517160b024f52db6000a4897f1aff5d765beb27bb60952ed5bd31",
    "physics": "1e309bafee0b832c8b84fa3c039c36992bc0a910238b128f26b7e9190d7f2aea",
    "photo": "5511b4dc3f63fa988792177227db7901290fb9b27fc6c02e3036b29e134ed6df",
    "computers": "fdb3dc0cf405d62322f0ab9614b2083c2a5e6576c2f43e4f2214be64bc62b1b3",
    "arxiv": "7ee21a7653297a806c0ed1be3efe6ecc06acc84e48e942da0bfde0e5d287debe",
}
REINSTALL = "reinstall it with `pip install --force-reinstall nas-bench-graph==1.4.0`"


@cache
def read_bench(dataset: str) -> dict[int, dict]:
    """The package's table of ``dataset``: cell key -> {valid_perf, perf, latency, para}."""
    if dataset not in GRAPH_DATASETS:
        raise TnasbenchError(f"unknown NAS-Bench-Graph dataset {dataset!r}: choose one of {', '.join(GRAPH_DATASETS)}")
    try:
        path = resources.files(PACKAGE).joinpath("light", f"{dataset}.bench")
    except ModuleNotFoundError:
        raise TnasbenchError("NAS-Bench-Graph needs its tables: `pip install nas-bench-graph==1.4.0`") from None
    with resources.as_file(path) as real:
        if not real.is_file():
            raise TnasbenchError(f"NAS-Bench-Graph table {real} is missing: {REINSTALL}")
        digest = sha256_file(real)
        if digest != BENCH_SHA256[dataset]:
            raise TnasbenchError(
                f"NAS-Bench-Graph table {real} has sha256 {digest}, expected {BENCH_SHA256[dataset]}: {REINSTALL}"
            )
        with open(real, "rb") as f:
            return pickle.load(f)


@cache
def graph_columns(dataset: str) -> dict[str, np.ndarray]:
    """Every metric of ``dataset`` in the space's index order (the package's key order, as in every dataset)."""

    raw = read_bench(dataset)
    keys = np.fromiter(raw, dtype=np.int64, count=len(raw))
    if not np.array_equal(keys, space_keys()):
        raise TnasbenchError(f"NAS-Bench-Graph {dataset}: its cells differ from the space's; " + REINSTALL)
    entries = list(raw.values())
    columns = {ours: np.array([float(e[theirs]) for e in entries]) for ours, theirs in GRAPH_METRICS.items()}
    for metric in ("val", "test"):  # accuracies in percent, like every other benchmark's
        columns[metric] = 100.0 * columns[metric]
    return columns


@cache
def space_keys() -> np.ndarray:
    """The package's key of every cell of the space, in index order."""
    from tnasbench.space.graph import encode_key, graph_space

    space = graph_space()
    return np.array([encode_key(space.choices_of(cell)) for cell in space.archs], dtype=np.int64)


def graph_source(dataset: str) -> str:
    """Where ``dataset``'s table comes from, or the command that installs it."""
    try:
        read_bench(dataset)
    except TnasbenchError as error:
        return f"missing: {error}"
    return f"{PACKAGE} 1.4.0 (light/{dataset}.bench, sha256 {BENCH_SHA256[dataset][:12]})"
