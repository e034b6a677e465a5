"""The black-box searcher protocol (ask/tell) and what a searcher may legally see."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tnasbench.benchmarks.identity import dataset_id
from tnasbench.benchmarks.protocol import Query, Result
from tnasbench.space import SearchSpace

if TYPE_CHECKING:
    from tnasbench.suite import TrialSpec


@dataclass(frozen=True)
class MetaTable:
    """The objective on one *other* dataset or task, its images if known. ``accuracies[i]`` is cell
    ``cells[i]``; a whole table (``cells`` None) holds every cell in index order, a partial one (a
    harness-built table of a sample) only the cells it names: their indices, or on a space too large to
    index, their notation (``space.to_string``)."""

    dataset: str
    metric: str
    accuracies: np.ndarray
    images: Any = None
    cells: np.ndarray | None = None

    def indices(self) -> np.ndarray:
        """The cell index of every entry of ``accuracies``."""
        return np.arange(len(self.accuracies)) if self.cells is None else self.cells


@dataclass(frozen=True)
class SearchContext:
    """Everything a searcher may use besides its own observations.

    ``meta_tables`` never holds the target dataset: transfer methods learn from other
    datasets only. ``images`` is a sample of the target's images where the benchmark has them.
    """

    dataset: str
    objective: str
    meta_tables: tuple[MetaTable, ...] = ()
    images: Any = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        target = dataset_id(self.dataset)
        if any(dataset_id(t.dataset) == target for t in self.meta_tables):
            raise ValueError(f"a search context for {self.dataset!r} must not hold that dataset's own table")


class Searcher(ABC):
    """Ask/tell searcher. The constructor only stores hyper-parameters; work starts in ``setup``.

    Subclasses set ``name`` (the registry name) and bump ``version`` when their
    behaviour changes, so stored trials of the old behaviour are not reused. ``params_type``, a
    dataclass of the hyper-parameters, lets a suite's unknown or mistyped params be refused on load.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    params_type: ClassVar[type | None] = None
    spaces: ClassVar[tuple[str, ...] | None] = None  # the spaces it can search (None: any); suites check it
    spaces_reason: ClassVar[str] = ""  # why only those, for the refusal
    large_spaces: ClassVar[bool] = False  # searches spaces too large to enumerate (``space.enumerable`` False)
    # another registered searcher whose random stream this one shares (None: its own): an ablation that differs
    # from its parent only after the shared setup, so the two are paired and share that setup's cache
    seed_stream: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        self.params = params

    @classmethod
    def check_space_params(cls, space: SearchSpace, params: dict[str, Any]) -> None:
        """Raise a one-line ``TnasbenchError`` when ``params`` cannot work on ``space`` (suites call this at load,
        so a run never fails trial by trial for it); by default every space suits every params."""
        return None

    @classmethod
    def needs_meta_tables(cls, params: dict[str, Any]) -> bool:
        """Whether ``params`` learn from other tasks' tables (a benchmark with a single task has none)."""
        return False

    @classmethod
    def shared_setup(cls, spec: TrialSpec) -> str | None:
        """A key naming costly setup work that trials share through a cache (TNAS's meta-training), or None.
        A local process pool runs one trial with a key until it has finished (so the setup is cached) before
        the others with that key, instead of holding a worker idle on the cache's lock (a Dask cluster
        schedules its trials itself)."""
        return None

    @classmethod
    def version_for(cls, params: dict[str, Any], space: SearchSpace) -> str:
        """The version in the keys of trials with ``params`` on ``space``: ``version``, unless modes (or a mode a
        space selects) change separately."""
        return cls.version

    @abstractmethod
    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        """Start a fresh search; all randomness must come from ``seed``."""

    @abstractmethod
    def ask(self) -> Any:
        """The next cell to evaluate (a cell of the space), or a ``Query`` for it at a lower fidelity."""

    @abstractmethod
    def tell(self, arch: Any, result: Result) -> None:
        """The outcome of evaluating ``arch`` (the cell last asked for)."""

    def describe(self) -> dict[str, Any]:
        """Facts about this run worth keeping with its results (variant, cache hits); called after the search."""
        return {}


def at_fidelity(arch: Any, epochs: int | None) -> Any:
    """``arch`` as a low-fidelity query when ``epochs`` is given, else as it is."""
    return Query(arch, epochs) if epochs else arch
