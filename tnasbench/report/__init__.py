"""Reports read the store only: they never run a search."""

from tnasbench.report.build import build_report

__all__ = ["build_report"]
