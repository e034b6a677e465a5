"""Build what a trial's searcher may see: other tasks' tables, never the target's."""

from __future__ import annotations

from tnasbench.benchmarks.kinds import benchmark_kind
from tnasbench.lazy import lazy_import
from tnasbench.searchers.protocol import SearchContext
from tnasbench.suite import TrialSpec

torch = lazy_import("torch")


def build_context(spec: TrialSpec) -> SearchContext:
    """Leave-one-task-out within the trial's benchmark: the other datasets' tables (the target excluded by
    identity), and a sample of the target's images where the benchmark has them."""
    kind = benchmark_kind(spec.benchmark)
    images = kind.images(spec) if kind.images is not None else None
    device = "cuda" if torch.cuda.is_available() else "cpu"  # searchers with models run there (TNAS does)
    return SearchContext(spec.dataset, spec.objective, kind.meta_tables(spec), images, device)
