"""``tnasbench verify``: is the store intact, do the tables it was produced from still match, and (``--replay``) do
its trials still come out the same from their seeds?"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace

from rich.progress import Progress

from tnasbench.errors import TnasbenchError
from tnasbench.provenance import machine, provenance
from tnasbench.runner import benchmark_facts, resolve, run_specs, run_trial
from tnasbench.store import Store
from tnasbench.suite import TrialSpec
from tnasbench.tnas.config import CACHE_VARIABLE


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


@dataclass(frozen=True)
class Replay:
    """One stored trial run again from its spec: ``outcome`` says whether it gave the same evaluations."""

    key: str
    label: str
    dataset: str
    seed: int
    same: bool | None  # None: not replayed (its searcher's version or its data changed since)
    outcome: str

    def line(self) -> str:
        return f"replay {self.label} on {self.dataset}, seed {self.seed} (trial {self.key[:12]}): {self.outcome}"


def replay_trials(
    store: Store, per_label: int, labels: set[str] | None = None, show_progress: bool = False
) -> list[Replay]:
    """Run again the first ``per_label`` current trials of each label (by seed, then dataset) and compare their
    evaluations, cell by cell and value by value, with the stored ones. A difference means the code now does
    something else from the same seed without saying so (a searcher's ``version``, TNAS's ``MODEL_VERSION``).
    Meta-training runs afresh into a temporary cache, so a cached model cannot hide a change in it."""
    trials = store.progress()
    trials = trials[trials["status"] == "done"]
    if labels:
        unknown = sorted(labels - set(trials["label"]))
        if unknown:
            raise TnasbenchError(
                f"--label {', '.join(unknown)}: no finished trials with that label in {store.path.name} "
                f"(it has {', '.join(sorted(set(trials['label'])))})"
            )
        trials = trials[trials["label"].isin(labels)]
    chosen = trials.sort_values(["label", "seed", "dataset", "key"]).groupby("label").head(per_label)
    replays = []
    with (
        tempfile.TemporaryDirectory() as cache,
        _environment(CACHE_VARIABLE, cache),
        Progress(disable=not show_progress, transient=True) as progress,
    ):
        task = progress.add_task("replaying stored trials", total=len(chosen))
        for row in chosen.itertuples():
            replays.append(Replay(row.key, row.label, row.dataset, int(row.seed), *_replay(store, row.spec)))
            progress.advance(task)
    return replays


def _replay(store: Store, text: str) -> tuple[bool | None, str]:
    spec = TrialSpec.from_json(text)
    try:
        current = resolve(spec)
    except TnasbenchError as error:
        return None, f"not replayed: {error}"
    if current.key != spec.key:
        return None, "not replayed: its searcher's version or its data changed since it ran (its suite re-runs it)"
    outcome = run_trial(spec)
    if outcome.error:  # the stored run finished, so failing now is a difference too
        return False, f"FAILED on replay: {outcome.error}"
    stored = store.db.execute(
        "SELECT arch, cell, epochs, objective FROM observations WHERE trial=? ORDER BY step", (spec.key,)
    ).fetchall()
    replayed = [(o.arch, o.cell, o.epochs, o.objective) for o in outcome.observations]
    for step, (before, now) in enumerate(zip(stored, replayed, strict=False), start=1):
        if before != now:
            return False, (
                f"DIFFERS from evaluation {step}: stored {_evaluation(before)}, replayed {_evaluation(now)} "
                f"({_likely_cause(store, spec.key)})"
            )
    if len(stored) != len(replayed):
        return False, f"DIFFERS: {len(stored)} evaluations stored, {len(replayed)} replayed"
    return True, f"same {len(stored)} evaluations"


def _likely_cause(store: Store, key: str) -> str:
    """Why a replay differs: the code, if the trial ran on a machine like this one; else maybe the machine."""
    (text,) = store.db.execute("SELECT provenance FROM trials WHERE key=?", (key,)).fetchone()
    there, here = machine(json.loads(text or "{}")), machine(provenance())
    other = {k: (v, here.get(k)) for k, v in there.items() if v != here.get(k)}
    if not other:
        return "the code changed what this searcher does from this seed: bump its version"
    named = "; ".join(f"{k} {v!r} there, {h!r} here" for k, (v, h) in other.items())
    return (
        f"it ran on another machine ({named}): model fits amplify last-bit differences between CPUs and BLAS "
        "kernels, so replay it on a machine like that one before suspecting the code"
    )


def _evaluation(row: tuple) -> str:
    arch, cell, epochs, objective = row
    return f"cell {cell if arch < 0 else arch} ({objective:.6g} at {epochs} epochs)"


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
