"""Command-line argument types: each checks one kind of input before any command runs or writes.

A bad value raises ``argparse.ArgumentTypeError`` with the problem and the fix; the parser turns it
into one line on stderr and exit code 2 (see ``cli.Parser``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def _bad(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def jobs(text: str) -> int:
    """Worker processes: an integer from 1 to the CPUs of this machine."""
    cpus = os.cpu_count() or 1
    try:
        value = int(text)
    except ValueError:
        raise _bad(f"must be a whole number, got {text!r}: pass e.g. --jobs {cpus}") from None
    if not 1 <= value <= cpus:
        raise _bad(f"must be at least 1 and at most {cpus} (the CPUs here), got {value}: pass --jobs {cpus}")
    return value


def count(text: str) -> int:
    """How many: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise _bad(f"must be a whole number, got {text!r}: pass e.g. --replay 1") from None
    if value < 1:
        raise _bad(f"must be at least 1, got {value}: pass e.g. --replay 1")
    return value


def _finite_positive(text: str, problem: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise _bad(problem.format(text=repr(text)))
    return value


def seconds(text: str) -> float:
    """A finite positive number of seconds."""
    return _finite_positive(text, "must be a finite positive number of seconds, got {text}: pass e.g. 3600")


def points(text: str) -> float:
    """A finite positive number of regret points (an equivalence margin)."""
    return _finite_positive(text, "must be a positive number of regret points, got {text}: try --margin 0.25")


def scheduler(text: str) -> str:
    """A Dask scheduler address such as tcp://host:8786."""
    parts = urlsplit(text)
    try:
        valid = parts.scheme in SCHEDULER_SCHEMES and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise _bad(f"{text!r} is not a Dask scheduler address: pass e.g. tcp://host:8786")
    return text


def folder(text: str) -> Path:
    """An output folder: absent (it is created) or a folder, never a file or under one."""
    path = Path(text)
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        where = "is a file" if blocking == path else f"lies under {blocking}, which is a file"
        raise _bad(f"{text} {where}: pass a folder path")
    return path


def store(text: str) -> Path:
    """An existing store file (the commands that read one never create it)."""
    path = Path(text)
    if path.is_dir():
        raise _bad(f"{text} is a folder, not a store: pass the .sqlite file")
    if not path.is_file():
        raise _bad(f"{text}: no such store (create one with `tnasbench run SUITE --store {text}`)")
    return path


def existing_path(text: str) -> Path:
    """A file or folder that exists."""
    if not Path(text).exists():
        where = {
            ".pth": "OFA's predictor: the OFA authors publish it; here it ships in ../shared/data/ofa/",
            ".zip": "TransNAS-Bench-101's zip ships in ../shared/data/transnas101/",
            ".npz": "tabulated tables are written by `tnasbench tabulate`",
        }.get(Path(text).suffix, "the NB201 CSVs ship in ../shared/data/nb201/")
        raise _bad(f"{text}: no such file ({where})")
    return Path(text)


def json_object(text: str) -> dict[str, Any]:
    """Searcher hyper-parameters as a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad(f"not valid JSON ({error}): pass e.g. '{{\"population\": 20}}'") from None
    if not isinstance(value, dict):
        raise _bad(f"must be a JSON object, got {text}: pass e.g. '{{\"population\": 20}}'")
    return value


def label(text: str) -> str:
    """A name for the reports: not empty."""
    if not text.strip():
        raise _bad("must not be empty: pass a name such as --label my-searcher")
    return text
