"""Benchmarks: evaluate an NB201 cell on a dataset (tabular lookup or live training)."""

from tnasbench.benchmarks.protocol import Benchmark, Evaluation, Query, Result
from tnasbench.benchmarks.tabular import TabularBenchmark

__all__ = ["Benchmark", "Evaluation", "Query", "Result", "TabularBenchmark"]
