"""The CUDA paths: skipped without a GPU. ``TNASBENCH_GPU_TESTS_ON_CPU=1`` runs the same checks on the CPU,
so the tests themselves are exercised on machines without one (the device then reads ``cpu``)."""

from __future__ import annotations

import os

import pytest
import torch


@pytest.fixture
def device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if os.environ.get("TNASBENCH_GPU_TESTS_ON_CPU") == "1":
        return "cpu"
    pytest.skip("no CUDA device (TNASBENCH_GPU_TESTS_ON_CPU=1 runs these checks on the CPU)")
