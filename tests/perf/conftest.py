"""Everything here is a speed benchmark: the `perf` tier, left out of the default run (`tox -e bench` runs it).

After the benchmarks' own table, `tox -e bench` prints the speed goals (issue #14's) beside what this run
measured: searcher steps as multiples of the linear-algebra floor measured in the same run (ratios travel
between machines, seconds do not), the rest in seconds or per second. Goals are reported, not asserted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

FLOOR = "test_linear_algebra_floor_at_100_observations"


@dataclass(frozen=True)
class Goal:
    benchmark: str  # the benchmark's name (test name with its parameters)
    what: str
    limit: float
    unit: str  # "× floor" (median / floor median), "s" (median), "s whole" (extra_info), "obs/s"

    def measure(self, medians: dict[str, float], extras: dict[str, dict]) -> float | None:
        if self.benchmark not in medians:
            return None
        median = medians[self.benchmark]
        if self.unit == "× floor":
            return median / medians[FLOOR] if FLOOR in medians else None
        if self.unit == "s whole":
            return extras[self.benchmark].get("whole_meta_training_s")
        if self.unit == "obs/s":
            return extras[self.benchmark]["observations_per_call"] / median
        return median

    def met(self, value: float) -> bool:
        return value >= self.limit if self.unit == "obs/s" else value <= self.limit


GOALS = (
    Goal("test_meta_training_at_default_sizes[gru-reptile]", "TNAS meta-training (Reptile, GRU), whole", 30, "s whole"),
    Goal("test_meta_training_at_default_sizes[onehot-reptile]", "tnas-onehot meta-training, whole", 30, "s whole"),
    Goal("test_meta_training_at_default_sizes[gru-fsbo]", "tnas-fsbo meta-training, whole", 30, "s whole"),
    Goal("test_ask_after_observations[tnas-100]", "TNAS step at 100 observations", 5, "× floor"),
    Goal("test_ask_after_observations[botorch-ei-100]", "BoTorch EI (fast) step at 100 observations", 10, "× floor"),
    Goal("test_ask_after_observations[botorch-ucb-100]", "BoTorch UCB (fast) step at 100 observations", 10, "× floor"),
    Goal(
        "test_ask_on_a_10000_candidate_pool[botorch-ei]",
        "BoTorch EI step, 10,000-subnet pool (MobileNetV3)",
        10,
        "× floor",
    ),
    Goal(
        "test_ask_on_a_10000_candidate_pool[tnas-nometa]",
        "TNAS (no meta-training) step, 10,000-subnet pool",
        5,
        "× floor",
    ),
    Goal("test_ask_after_observations[hebo-100]", "HEBO step (default: finite optimiser), 100 observations", 0.5, "s"),
    Goal("test_runner_and_store_per_observation", "runner + store, cheap searchers", 10_000, "obs/s"),
    Goal("test_run_on_a_finished_store", "`tnasbench run` on a finished store (a process)", 2, "s"),
    Goal("test_report_from_100k_observations", "report from 104,000 observations", 10, "s"),
    Goal("test_table_load_from_cache", "cached table load", 0.5, "s"),
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/perf/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.perf)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    benchmarks = [b for b in getattr(session, "benchmarks", []) if b and b.stats and b.stats.rounds]
    if not benchmarks:
        return
    medians = {b.name: b.stats.median for b in benchmarks}
    extras = {b.name: b.extra_info for b in benchmarks}
    write = terminalreporter.write_line
    write("")
    write("speed goals (issue #14), measured in this run:")
    if FLOOR in medians:
        write(f"  linear-algebra floor at 100 observations: {medians[FLOOR] * 1e3:.1f} ms (median)")
    for goal in GOALS:
        value = goal.measure(medians, extras)
        if value is None:
            continue
        shown = f"{value:,.0f}" if goal.unit == "obs/s" else f"{value:.2f}"
        limit = f"{goal.limit:,.0f}" if goal.unit == "obs/s" else f"{goal.limit:g}"
        sign = "≥" if goal.unit == "obs/s" else "≤"
        status = "met" if goal.met(value) else "NOT met"
        write(f"  {goal.what:<52} {shown:>9} {goal.unit:<8} goal {sign} {limit:<7} {status}")
    steps = sorted(n for n in medians if n.startswith("test_ask_at_100_observations_on_every_space"))
    if FLOOR in medians and steps:
        write("  every searcher's step at 100 observations per space, × floor:")
        for name in steps:
            write(f"    {name.split('[', 1)[1].rstrip(']'):<40} {medians[name] / medians[FLOOR]:8.1f}×")
