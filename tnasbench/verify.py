"""``tnasbench verify``: is the store intact, and do the tables it was produced from still match?"""

from __future__ import annotations

import json
from dataclasses import replace

from tnasbench.errors import TnasbenchError
from tnasbench.runner import benchmark_facts
from tnasbench.store import Store
from tnasbench.suite import TrialSpec


def verify_store(store: Store) -> list[str]:
    """Problems found (an empty list means the store is sound and reproducible from the data here)."""
    problems = [f"sqlite integrity: {row[0]}" for row in store.db.execute("PRAGMA integrity_check") if row[0] != "ok"]
    trials = store.progress()
    steps = store.db.execute("SELECT trial, COUNT(*), MIN(step), MAX(step) FROM observations GROUP BY trial")
    counts = {trial: (n, low, high) for trial, n, low, high in steps}
    checked: dict[str, str] = {}
    completed = trials["finished"].notna() & trials["error"].isna()  # done, perhaps superseded since
    for row in trials[completed].itertuples():
        spec = TrialSpec.from_json(row.spec)
        if spec.key != row.key:
            problems.append(f"trial {row.key}: its stored spec hashes to {spec.key} (edited by hand?)")
        n, low, high = counts.get(row.key, (0, None, None))
        info = json.loads(row.searcher_info) if isinstance(row.searcher_info, str) else {}
        expected = 1 if info.get("one_shot") else spec.budget.evaluations
        if n == 0 or low != 1 or high != n or (expected is not None and n != expected):
            problems.append(f"trial {row.key} ({row.label} on {row.dataset}): {n} observations, steps {low}..{high}")
        if row.status == "superseded":  # replaced by a later run (perhaps on newer data): not reported
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
