"""Suite files (TOML): which searchers, datasets, budgets and seeds; validated on load."""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tnasbench import __version__
from tnasbench.errors import TnasbenchError
from tnasbench.seeding import derive_seed

TOP_KEYS = {
    "name",
    "description",
    "seed",
    "benchmark",
    "datasets",
    "objective",
    "report",
    "noise",
    "seeds",
    "budgets",
    "searchers",
    "live",
    "trial_timeout",
}
SEARCHER_KEYS = {"name", "params", "label"}
BUDGET_KEYS = {"evaluations", "seconds"}
DEFAULT_TRIAL_TIMEOUT = 6 * 3600.0  # seconds of wall clock a trial may take before it fails
MAX_SEED = 2**32 - 1
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a suite name is a file name: results/<name>.sqlite


@dataclass(frozen=True)
class Budget:
    """Stop after ``evaluations`` evaluations or ``seconds`` of (table) training time, whichever first."""

    evaluations: int | None = None
    seconds: float | None = None

    def exhausted(self, evaluations: int, seconds: float) -> bool:
        return (self.evaluations is not None and evaluations >= self.evaluations) or (
            self.seconds is not None and seconds >= self.seconds
        )

    def __str__(self) -> str:
        parts = [f"{self.evaluations} evals" if self.evaluations else "", f"{self.seconds:g} s" if self.seconds else ""]
        return " / ".join(p for p in parts if p)


@dataclass(frozen=True)
class TrialSpec:
    """One seeded search run; ``key`` identifies it in the store."""

    suite: str
    suite_seed: int
    benchmark: str
    dataset: str
    objective: str
    report: str
    noise: str
    searcher: str
    label: str
    params: str  # canonical JSON of the searcher's hyper-parameters
    budget: Budget
    seed: int  # the repetition seed listed in the suite
    live: str = "{}"  # canonical JSON of the live benchmark's training config
    signature: str = ""  # data checksums of the benchmark (filled in by the runner)
    searcher_version: str = "1"

    @cached_property
    def key(self) -> str:  # computed once per spec (specs are frozen): the runner asks for it many times
        content = asdict(self) | {"tnasbench": __version__}
        content.pop("suite")  # the same trial in two suites is the same trial
        return _digest(content)

    @property
    def slot(self) -> str:
        """The experiment this trial is a run of, whatever code or data ran it: of the finished trials
        in one slot (say, before and after a searcher's version bump), reports count the latest."""
        content = asdict(self)
        for name in ("suite", "report", "signature", "searcher_version"):  # "auto" resolves by the data present
            content.pop(name)
        return _digest(content)

    @property
    def benchmark_seed(self) -> int:
        """Shared by every searcher in a repetition (same benchmark noise for all)."""
        return derive_seed(self.suite_seed, self.dataset, self.seed)

    @property
    def searcher_seed(self) -> int:
        """Differs between searchers; shared by the labelled variants of one searcher (other params), and by
        a registered ablation with the searcher it names as its ``seed_stream``, so that comparing them is
        paired on the same random stream."""
        from tnasbench.searchers.registry import seed_stream

        return derive_seed(self.suite_seed, self.dataset, self.seed, seed_stream(self.searcher))

    @property
    def searcher_params(self) -> dict[str, Any]:
        return json.loads(self.params)

    @classmethod
    def from_json(cls, text: str) -> TrialSpec:
        """The spec as the store keeps it (``json.dumps(asdict(spec))``)."""
        fields = json.loads(text)
        return cls(**(fields | {"budget": Budget(**fields["budget"])}))


def _digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    seed: int
    benchmark: str
    datasets: tuple[str, ...]
    objective: str
    report: str
    noise: str
    seeds: tuple[int, ...]
    budgets: tuple[Budget, ...]
    searchers: tuple[tuple[str, str, str], ...]  # (name, label, params JSON)
    live: str = "{}"
    description: str = ""
    trial_timeout: float = DEFAULT_TRIAL_TIMEOUT

    def trials(self) -> list[TrialSpec]:
        """Every trial, block by block: all searchers on one (seed, task, budget) before the next, so that a run
        stopped part-way leaves complete blocks for ranks and paired tests, not every seed of a few searchers."""
        return [
            TrialSpec(
                self.name,
                self.seed,
                self.benchmark,
                dataset,
                self.objective,
                self.report,
                self.noise,
                name,
                label,
                params,
                budget,
                seed,
                self.live,
            )
            for seed in self.seeds
            for dataset in self.datasets
            for budget in self.budgets
            for name, label, params in self.searchers
        ]


def _fail(path: Path, message: str) -> TnasbenchError:
    return TnasbenchError(f"{path}: {message}")


def _check_keys(path: Path, where: str, found: dict, allowed: set[str]) -> None:
    for key in found:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(sorted(allowed))})"
            raise _fail(path, f"unknown key {key!r} in {where}{hint}")


def _positive(path: Path, name: str, value: Any, kind: type, most: float = math.inf, why: str = "") -> Any:
    """``value`` if it is a finite positive number (an integer for ``kind`` int) no larger than ``most``."""
    number = not isinstance(value, bool) and isinstance(value, (int, float) if kind is float else int)
    if not number or not 0 < value < math.inf:
        raise _fail(path, f"{name} must be a finite positive {'number' if kind is float else 'integer'}, got {value!r}")
    if value > most:
        raise _fail(path, f"{name} must be at most {most:,g}{why}, got {value!r}")
    return value


def _seed(path: Path, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise _fail(path, f"{name} must be integers from 0 to {MAX_SEED}, got {value!r}")
    return value


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; any problem is one clear TnasbenchError."""
    path = Path(path)
    if path.is_dir():
        raise TnasbenchError(f"{path} is a folder: pass a suite file such as {path}/quickstart.toml")
    if not path.is_file():
        raise TnasbenchError(f"{path}: no such suite file (`tnasbench list suites` shows the shipped ones)")
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise _fail(path, f"not UTF-8 text ({error.reason} at byte {error.start}): save the suite as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise _fail(path, f"malformed TOML: {error}") from None
    except OSError as error:
        raise _fail(path, f"cannot read it ({error.strerror})") from None
    return parse_suite(raw, path)


def parse_suite(raw: dict[str, Any], path: Path) -> Suite:
    from tnasbench.benchmarks.kinds import benchmark_kind
    from tnasbench.searchers.registry import check_params, check_space, seed_stream
    from tnasbench.space import get_space

    _check_keys(path, "the suite", raw, TOP_KEYS)
    for required in ("name", "datasets", "seeds", "budgets", "searchers"):
        if required not in raw:
            raise _fail(path, f"missing key {required!r}")
    if not isinstance(raw["name"], str) or not NAME.fullmatch(raw["name"]):
        raise _fail(
            path, f"name must be letters, digits, '.', '_' or '-' (it names the store file), got {raw['name']!r}"
        )
    benchmark = raw.get("benchmark", "nb201")
    try:
        kind = benchmark_kind(benchmark)
    except TnasbenchError as error:
        raise _fail(path, str(error)) from None
    known, metrics, open_ended = kind.datasets, kind.metrics, kind.open_ended
    datasets = raw["datasets"]
    if not isinstance(datasets, list) or not datasets:
        raise _fail(path, "datasets must be a non-empty list")
    for dataset in datasets:
        if dataset not in known and not (open_ended and isinstance(dataset, str) and dataset.startswith(open_ended)):
            close = difflib.get_close_matches(str(dataset), known, n=1)
            forms = ", ".join((*known, *(f"{prefix}<...>" for prefix in open_ended)))
            hint = f"did you mean {close[0]!r}?" if close else f"choose from {forms}"
            raise _fail(path, f"unknown dataset {dataset!r} for benchmark {benchmark!r} ({hint})")
    objective, report = raw.get("objective", metrics[0]), raw.get("report", "auto")
    for name, value in (("objective", objective), ("report", report)):
        if value not in metrics and not (name == "report" and value == "auto"):
            raise _fail(path, f"unknown {name} metric {value!r}: choose one of {', '.join(metrics)}")
    noise = raw.get("noise", "mean")
    if noise not in kind.noise_modes:
        raise _fail(
            path, f"unknown noise {noise!r} for benchmark {benchmark!r}: choose one of {', '.join(kind.noise_modes)}"
        )
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or not seeds:
        raise _fail(path, f"seeds must be a non-empty list of integers, got {seeds!r}")
    for seed in seeds:
        _seed(path, "seeds", seed)
    if len(set(seeds)) != len(seeds):
        raise _fail(path, "seeds must not repeat")
    suite_seed = _seed(path, "seed", raw.get("seed", 0))
    timeout = float(_positive(path, "trial_timeout (seconds)", raw.get("trial_timeout", DEFAULT_TRIAL_TIMEOUT), float))
    budgets = []
    if not isinstance(raw["budgets"], list) or not raw["budgets"]:
        raise _fail(path, "budgets must be a non-empty list like [{evaluations = 100}]")
    for item in raw["budgets"]:
        if not isinstance(item, dict) or not item:
            raise _fail(path, f"each budget is a table like {{evaluations = 100}}, got {item!r}")
        _check_keys(path, "a budget", item, BUDGET_KEYS)
        evaluations = item.get("evaluations")
        seconds = item.get("seconds")
        budgets.append(
            Budget(
                _positive(
                    path,
                    "budget evaluations",
                    evaluations,
                    int,
                    get_space(kind.space).size,
                    " (the cells in the space)",
                )
                if evaluations is not None
                else None,
                float(_positive(path, "budget seconds", seconds, float)) if seconds is not None else None,
            )
        )
        if seconds is not None and not kind.has_cost:
            raise _fail(
                path,
                f"benchmark {benchmark!r} has no evaluation cost, so a budget in seconds never ends: use evaluations",
            )
    searchers, labels = [], set()
    if not isinstance(raw["searchers"], list) or not raw["searchers"]:
        raise _fail(path, "searchers must be a non-empty list of [[searchers]] tables")
    for item in raw["searchers"]:
        if not isinstance(item, dict) or "name" not in item:
            raise _fail(path, "each [[searchers]] table needs a name")
        _check_keys(path, f"searcher {item.get('name')!r}", item, SEARCHER_KEYS)
        params = item.get("params", {})
        if not isinstance(params, dict):
            raise _fail(path, f"params of searcher {item['name']!r} must be a table")
        try:  # unknown or broken searchers, their unknown params and spaces they cannot search fail here
            check_params(item["name"], params)
            check_space(item["name"], benchmark, params)
            seed_stream(item["name"])
        except TnasbenchError as error:
            raise _fail(path, str(error)) from None
        label = item.get("label", item["name"])
        if not isinstance(label, str) or not label.strip():
            raise _fail(path, f"the label of searcher {item['name']!r} must be a non-empty string, got {label!r}")
        if label in labels:
            raise _fail(path, f"two searchers share the label {label!r}: give one a distinct label")
        labels.add(label)
        searchers.append((item["name"], label, json.dumps(params, sort_keys=True)))
    live = raw.get("live", {})
    from tnasbench.benchmarks.kinds import is_live

    if is_live(benchmark):
        from tnasbench.benchmarks.live import TrainingConfig

        config = TrainingConfig.from_mapping(live, path)
        if config.width_multiplier and benchmark_kind(benchmark).space != "mobilenetv3":
            raise _fail(path, "[live] width_multiplier sizes MobileNetV3 subnets (mbv3-live): leave it out here")
        live = config.to_json()
    elif live:
        raise _fail(
            path, "a [live] table only applies to live benchmarks (nb201-live, nb201-live-tabulated, mbv3-live)"
        )
    else:
        live = "{}"
    return Suite(
        str(raw["name"]),
        str(path),
        suite_seed,
        benchmark,
        tuple(datasets),
        objective,
        report,
        noise,
        tuple(seeds),
        tuple(budgets),
        tuple(searchers),
        live,
        str(raw.get("description", "")),
        timeout,
    )
