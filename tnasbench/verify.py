"""``tnasbench verify``: is the store intact, and do the tables it was produced from still match?"""

from __future__ import annotations

from dataclasses import replace

from tnasbench.errors import TnasbenchError
from tnasbench.runner import benchmark_facts, resolve, run_specs
from tnasbench.store import Store
from tnasbench.suite import TrialSpec


def verify_store(store: Store) -> list[str]:
    """Problems found (an empty list means the store is sound and reproducible from the data here)."""
    problems = [f"sqlite integrity: {row[0]}" for row in store.db.execute("PRAGMA integrity_check") if row[0] != "ok"]
    trials = store.progress()
    incomplete = store.incomplete()
    for label, pairs in sorted(store.labels().items()):
        if len(pairs) > 1:
            named = "; ".join(f"{searcher} {params}" for searcher, params in sorted(pairs))
            problems.append(f"label {label!r} pools {len(pairs)} searchers or settings ({named}): reports mix them")
    checked: dict[str, str] = {}
    completed = trials["finished"].notna() & trials["error"].isna()  # done, perhaps superseded since
    for row in trials[completed].itertuples():
        spec = TrialSpec.from_json(row.spec)
        if spec.key != row.key:
            problems.append(f"trial {row.key}: its stored spec hashes to {spec.key} (edited by hand?)")
        if row.key in incomplete:
            problems.append(
                f"trial {row.key} ({row.label} on {row.dataset}): {incomplete[row.key]} "
                "(`tnasbench verify --repair` redoes it)"
            )
        if row.status in ("superseded", "stale"):  # replaced by a later run, or awaiting one on newer data
            continue
        data = replace(spec, seed=0, suite="", suite_seed=0, signature="", searcher_version="")
        if data.key not in checked:
            try:
                checked[data.key] = benchmark_facts(spec)[1]
            except TnasbenchError as error:
                checked[data.key] = f"unavailable ({error})"
        if checked[data.key] != spec.signature:
            problems.append(
                f"{row.dataset} ({spec.benchmark}): trials were run on data {spec.signature}, "
                f"the data here is {checked[data.key]}"
            )
    return sorted(set(problems))


def repair_store(store: Store) -> tuple[int, int]:
    """Redo, from their seeds, the finished trials whose observations are incomplete; returns
    (redone, left): a trial whose code or data changed since is left (its suite re-runs it anew)."""
    incomplete = store.incomplete()
    if not incomplete:
        return 0, 0
    marks = ",".join("?" * len(incomplete))
    stored = store.db.execute(f"SELECT spec FROM trials WHERE key IN ({marks})", list(incomplete)).fetchall()
    specs = [TrialSpec.from_json(text) for (text,) in stored]
    same = [spec for spec in specs if resolve(spec).key == spec.key]
    counts = run_specs("repair", same, store, show_progress=False)
    return counts["done"], len(specs) - counts["done"]
