"""The one-shot searcher protocol: one search on the data, one derived cell, its measured cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from tnasbench.space import Arch

if TYPE_CHECKING:  # images import torch, which a finished run never needs
    from tnasbench.benchmarks.images import ImageData


class OneShotSearcher(ABC):
    """Searches a weight-sharing supernet on ``data`` and derives one cell.

    The runner times ``search`` (wall clock, on ``device``) and evaluates the derived cell on the
    trial's benchmark, so its accuracy compares directly with the black-box searchers'.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    spaces: ClassVar[tuple[str, ...] | None] = ("nb201",)  # the supernet is NB201's
    spaces_reason: ClassVar[str] = "one-shot search needs a supernet, which only NB201 has here"

    def __init__(self, **params: Any) -> None:
        self.params = params

    @classmethod
    def check_space_params(cls, space: Any, params: dict[str, Any]) -> None:
        """As ``Searcher.check_space_params``: the ``spaces`` check already covers what one-shot needs."""
        return None

    @classmethod
    def version_for(cls, params: dict[str, Any], space: Any) -> str:
        """As ``Searcher.version_for``."""
        return cls.version

    @abstractmethod
    def search(self, data: ImageData, seed: int, device: str) -> Arch:
        """Train the supernet and its architecture weights on ``data``; return the derived cell."""

    def describe(self) -> dict[str, Any]:
        """Facts about the finished search (final architecture weights, epochs) kept with the trial."""
        return {}
