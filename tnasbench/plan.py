"""What a run would do, before it does it: the trials left per searcher and what they would cost, estimated
from the store's own finished trials (``tnasbench run --dry-run``). Reads the store; writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tnasbench.errors import TnasbenchError
from tnasbench.store import Store
from tnasbench.suite import TrialSpec

COLUMNS = ["searcher", "trials", "stored", "held", "to_run", "reruns", "seconds_each", "seconds", "longest"]


def open_for_plan(path: Path) -> Store | None:
    """The store at ``path`` opened read-only (refused as ``run`` would refuse it), or None where a run would
    create it."""
    if path.exists():
        return Store(path, readonly=True)
    parent = next(p for p in path.parents if p.exists())
    if not parent.is_dir():
        raise TnasbenchError(f"{path}: {parent} is a file, not a folder: pass a store path inside a folder")
    return None


def machine_seconds(store: Store, complete: set[str]) -> pd.DataFrame:
    """The machine time of each trial in ``complete``: the searcher's set-up plus every step's wall clock
    (ask, evaluate, tell). Columns key, benchmark, label, budget, seconds."""
    query = """SELECT t.key, t.benchmark, t.label, t.budget_evaluations, t.searcher_info, SUM(o.wall_seconds)
               FROM trials t JOIN observations o ON o.trial = t.key WHERE t.status = 'done' GROUP BY t.key"""
    rows = [
        (key, benchmark, label, budget, _setup_seconds(info) + (steps or 0.0))
        for key, benchmark, label, budget, info, steps in store.db.execute(query)
        if key in complete
    ]
    return pd.DataFrame(rows, columns=["key", "benchmark", "label", "budget", "seconds"])


def _setup_seconds(info: str | None) -> float:
    try:
        return float(json.loads(info or "{}").get("compute", {}).get("setup_seconds", 0.0))
    except (ValueError, AttributeError, TypeError):
        return 0.0


def plan(specs: list[TrialSpec], store: Store | None) -> pd.DataFrame:
    """Per searcher label: its trials, those done in ``store`` (complete, as ``run`` counts them), those held
    by another live runner, those to run (and how many re-run a slot finished under older code or data), and
    the estimated machine seconds: the median of the store's complete trials of that label on that benchmark
    and budget (NaN without one)."""
    if store is None:
        done, held, finished_slots = set(), set(), set()
        stored = pd.DataFrame(columns=["key", "benchmark", "label", "budget", "seconds"])
    else:
        trials = store.progress()
        incomplete = set(store.incomplete())
        complete = trials[(trials["status"] == "done") & ~trials["key"].isin(incomplete)]
        done = set(complete["key"])
        held = set(trials.loc[trials["status"] == "running", "key"])  # live claims; lapsed ones are "interrupted"
        finished_slots = {TrialSpec.from_json(text).slot for text in complete["spec"]}
        stored = machine_seconds(store, done)
    typical = stored.groupby(["benchmark", "label", "budget"])["seconds"].median().to_dict()
    rows = []
    for spec in specs:
        each = typical.get((spec.benchmark, spec.label, spec.budget.evaluations), float("nan"))
        state = "stored" if spec.key in done else "held" if spec.key in held else "to_run"
        rerun = state == "to_run" and spec.slot in finished_slots
        rows.append({"searcher": spec.label, "state": state, "rerun": rerun, "each": each})
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(rows)
    pending = frame[frame["state"] == "to_run"]
    table = frame.groupby("searcher").agg(trials=("state", "size"), seconds_each=("each", "median"))
    for state in ("stored", "held", "to_run"):
        table[state] = frame[frame["state"] == state].groupby("searcher").size().reindex(table.index, fill_value=0)
    table["reruns"] = pending.groupby("searcher")["rerun"].sum().reindex(table.index, fill_value=0).astype(int)
    grouped = pending.groupby("searcher")["each"]
    table["seconds"] = grouped.apply(_total).reindex(table.index, fill_value=0.0)
    table["longest"] = grouped.max().reindex(table.index).fillna(0.0)
    return table.reset_index()[COLUMNS]


def _total(seconds: pd.Series) -> float:
    """The sum of the estimates, unknown (NaN) when any of them is."""
    return float("nan") if seconds.isna().any() else float(seconds.sum())


def plan_lines(title: str, table: pd.DataFrame, store: Path, jobs: int) -> list[str]:
    """The dry run's report: one line per searcher and a total, in hours where it is long."""
    lines = [f"{title}: dry run against {store} (nothing is run, claimed or written)"]
    names = ("trials", 7), ("stored", 8), ("held", 6), ("to run", 8), ("re-runs", 9), ("each", 10), ("total", 10)
    lines.append(f"  {'searcher':<24}" + "".join(f"{name:>{width}}" for name, width in names))
    for row in table.itertuples():
        lines.append(
            f"  {row.searcher:<24}{row.trials:>7}{row.stored:>8}{row.held:>6}{row.to_run:>8}{row.reruns:>9}"
            f"{_duration(row.seconds_each):>10}{_duration(row.seconds):>10}"
        )
    to_run = int(table["to_run"].sum())
    known = table.loc[table["to_run"] > 0, "seconds"]
    missing = table.loc[(table["to_run"] > 0) & table["seconds"].isna(), "searcher"].tolist()
    total = f"{to_run} of {int(table['trials'].sum())} trials to run"
    if to_run and known.notna().any():
        seconds = float(known.sum())
        wall = max(seconds / jobs, float(table["longest"].max()))  # no worker count beats the longest trial
        total += f", about {_duration(seconds)} of machine time (at least {_duration(wall)} wall with {jobs} jobs)"
        total += " from this store's finished trials"
    if missing:
        total += f"; no estimate for {', '.join(missing)} (no finished trial of theirs in this store)"
    if held := int(table["held"].sum()):
        total += f"; {held} held by another live runner"
    return [*lines, total]


def _duration(seconds: float) -> str:
    if pd.isna(seconds):
        return "?"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
