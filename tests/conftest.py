"""Shared fixtures: an isolated data home, the shared NB201 tables, single-threaded BLAS."""

from __future__ import annotations

import os

import pytest

os.environ["OMP_NUM_THREADS"] = "1"
from tnasbench.testing import EPOCH12, NB201_DIR, OFA_PREDICTOR, TEST200, TRANSNAS_ZIP  # noqa: E402


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def data_home(tmp_path_factory):
    """Every test session gets its own cache; the shared tables are imported once into it."""
    home = tmp_path_factory.mktemp("tnasbench-home")
    os.environ["TNASBENCH_HOME"] = str(home)
    from tnasbench.benchmarks.importers import import_source

    if not TEST200.is_file():
        pytest.exit(f"shared NB201 tables not found in {NB201_DIR}: set TNASBENCH_SHARED_DATA", returncode=2)
    import_source(TEST200)
    import_source(EPOCH12)
    if TRANSNAS_ZIP.is_file():  # without it the TransNAS-Bench-101 tests are skipped with the import command
        import_source(TRANSNAS_ZIP)
    if OFA_PREDICTOR.is_file():  # likewise the ofa-imagenet (MobileNetV3) tests
        import_source(OFA_PREDICTOR)
    return home


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """An empty data home for tests that import or corrupt tables."""
    from tnasbench.benchmarks.tables import load_table

    monkeypatch.setenv("TNASBENCH_HOME", str(tmp_path / "home"))
    load_table.cache_clear()
    yield tmp_path / "home"
    load_table.cache_clear()
