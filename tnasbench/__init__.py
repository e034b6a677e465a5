"""tnasbench: a benchmark and reproducibility harness for NAS searchers, built around TNAS."""

__version__ = "0.1.0"
