"""What a run would do, before it does it: the trials left per searcher and what they would cost, estimated
from the store's own finished trials (``tnasbench run --dry-run``). Reads the store; writes nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from tnasbench.suite import TrialSpec

COLUMNS = ["searcher", "trials", "stored", "to_run", "reruns", "seconds_each", "seconds"]


def machine_seconds(path: Path) -> pd.DataFrame:
    """Each finished trial's machine time in the store at ``path``: the searcher's set-up plus every step's
    wall clock (ask, evaluate, tell). Columns benchmark, label, budget, seconds; empty without a store."""
    columns = ["key", "benchmark", "label", "budget", "seconds"]
    if not path.is_file() or not path.stat().st_size:
        return pd.DataFrame(columns=columns)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = """SELECT t.key, t.benchmark, t.label, t.budget_evaluations, t.searcher_info, SUM(o.wall_seconds)
                   FROM trials t JOIN observations o ON o.trial = t.key
                   WHERE t.status = 'done' GROUP BY t.key"""
        rows = [
            (key, benchmark, label, budget, _setup_seconds(info) + (steps or 0.0))
            for key, benchmark, label, budget, info, steps in db.execute(query)
        ]
    finally:
        db.close()
    return pd.DataFrame(rows, columns=columns)


def _setup_seconds(info: str | None) -> float:
    try:
        return float(json.loads(info or "{}").get("compute", {}).get("setup_seconds", 0.0))
    except (ValueError, AttributeError, TypeError):
        return 0.0


def plan(specs: list[TrialSpec], path: Path) -> pd.DataFrame:
    """Per searcher label: its trials, those already done in the store at ``path``, those to run (and how
    many of them re-run a slot finished under older code or data), and the estimated machine seconds: the
    median of this store's finished trials of that label on that benchmark and budget (NaN without one)."""
    stored = machine_seconds(path)
    done = set(stored["key"])
    finished_slots = _finished_slots(path)
    typical = stored.groupby(["benchmark", "label", "budget"])["seconds"].median().to_dict()
    rows = []
    for spec in specs:
        pending = spec.key not in done
        each = typical.get((spec.benchmark, spec.label, spec.budget.evaluations), float("nan"))
        rows.append(
            {
                "searcher": spec.label,
                "trials": 1,
                "stored": int(not pending),
                "to_run": int(pending),
                "reruns": int(pending and spec.slot in finished_slots),
                "seconds_each": each,
                "seconds": each if pending else 0.0,
            }
        )
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(rows)
    sums = frame.groupby("searcher", sort=True)[["trials", "stored", "to_run", "reruns"]].sum()
    each = frame.groupby("searcher")["seconds_each"].median()
    seconds = frame.groupby("searcher")["seconds"].sum(min_count=1)
    unknown = frame[frame["to_run"] == 1].groupby("searcher")["seconds_each"].apply(lambda s: s.isna().any())
    seconds[unknown.reindex(seconds.index, fill_value=False)] = float("nan")  # some pending trial has no estimate
    return sums.assign(seconds_each=each, seconds=seconds).reset_index()[COLUMNS]


def _finished_slots(path: Path) -> set[tuple]:
    if not path.is_file() or not path.stat().st_size:
        return set()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {TrialSpec.from_json(text).slot for (text,) in db.execute("SELECT spec FROM trials WHERE status='done'")}
    finally:
        db.close()


def plan_lines(title: str, table: pd.DataFrame, store: Path, jobs: int) -> list[str]:
    """The dry run's report: one line per searcher and a total, in hours where it is long."""
    lines = [f"{title}: dry run against {store} (nothing is run, claimed or written)"]
    lines.append(f"  {'searcher':<24}{'trials':>7}{'stored':>8}{'to run':>8}{'re-runs':>9}{'each':>10}{'total':>10}")
    for row in table.itertuples():
        lines.append(
            f"  {row.searcher:<24}{row.trials:>7}{row.stored:>8}{row.to_run:>8}{row.reruns:>9}"
            f"{_duration(row.seconds_each):>10}{_duration(row.seconds if row.to_run else 0.0):>10}"
        )
    to_run = int(table["to_run"].sum())
    known = table.loc[table["to_run"] > 0, "seconds"]
    missing = table.loc[(table["to_run"] > 0) & table["seconds"].isna(), "searcher"].tolist()
    total = f"{to_run} of {int(table['trials'].sum())} trials to run"
    if to_run and known.notna().any():
        seconds = float(known.sum())
        total += f", about {_duration(seconds)} of machine time ({_duration(seconds / jobs)} wall with --jobs {jobs})"
        total += " from this store's finished trials"
    if missing:
        total += f"; no estimate for {', '.join(missing)} (no finished trial of theirs in this store)"
    return [*lines, total]


def _duration(seconds: float) -> str:
    if pd.isna(seconds):
        return "?"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
