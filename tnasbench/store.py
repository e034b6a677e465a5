"""The result store: one SQLite file (WAL), a trials table and one row per observation."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tnasbench.errors import TnasbenchError
from tnasbench.suite import TrialSpec

SCHEMA_VERSION = 3  # 2 added trials.searcher_info, 3 the claim (owner, lease_until); older stores migrate in place
STATUSES = ("running", "done", "failed")
MIGRATIONS = {  # from version N to N + 1
    1: ["ALTER TABLE trials ADD COLUMN searcher_info TEXT"],
    2: ["ALTER TABLE trials ADD COLUMN owner TEXT", "ALTER TABLE trials ADD COLUMN lease_until REAL"],
}
LEASE_SECONDS = 300.0  # a claim lapses this long after its runner's last heartbeat

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY, suite TEXT, benchmark TEXT, dataset TEXT, objective TEXT, report TEXT,
    noise TEXT, searcher TEXT, label TEXT, params TEXT, budget_evaluations INTEGER, budget_seconds REAL,
    seed INTEGER, searcher_seed INTEGER, benchmark_seed INTEGER, optimum REAL, status TEXT NOT NULL,
    error TEXT, spec TEXT NOT NULL, provenance TEXT, started REAL, finished REAL, searcher_info TEXT,
    owner TEXT, lease_until REAL);
CREATE TABLE IF NOT EXISTS observations (
    trial TEXT NOT NULL, step INTEGER NOT NULL, arch INTEGER NOT NULL, epochs INTEGER NOT NULL, objective REAL NOT NULL,
    reported REAL NOT NULL, regret REAL NOT NULL, cost_seconds REAL NOT NULL, wall_seconds REAL NOT NULL,
    PRIMARY KEY (trial, step));
"""


@dataclass(frozen=True)
class Observation:
    step: int  # 1-based evaluation number
    arch: int  # cell index
    epochs: int  # fidelity of the evaluation (training epochs)
    objective: float  # what the searcher saw
    reported: float  # the report metric of the same cell
    regret: float  # optimum of the report metric minus the incumbent's reported value
    cost_seconds: float
    wall_seconds: float


class Store:
    """A SQLite result store; the process that opens it is its only writer."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as error:
            raise TnasbenchError(f"{self.path} is not a tnasbench store ({error}): pass another --store path") from None
        if row is None:
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) in MIGRATIONS:
            with self.db:
                for version in range(int(row[0]), SCHEMA_VERSION):
                    for statement in MIGRATIONS[version]:
                        self.db.execute(statement)
                self.db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            newer = int(row[0]) > SCHEMA_VERSION
            raise TnasbenchError(
                f"{self.path} has store schema {row[0]}, this tnasbench reads schema {SCHEMA_VERSION}: "
                + ("upgrade tnasbench" if newer else "re-run the suite into a new store")
            )

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction; a full disk becomes one clear error and the transaction is rolled back."""
        try:
            with self.db:
                yield
        except sqlite3.OperationalError as error:
            if not any(sign in str(error) for sign in ("full", "disk I/O error", "too large")):
                raise
            raise TnasbenchError(
                f"cannot write {self.path} ({error}): the disk is full or the file too large; free space and "
                "run the same command again (finished trials are kept)"
            ) from None

    def close(self) -> None:
        self.db.close()

    def status(self, key: str) -> str | None:
        row = self.db.execute("SELECT status FROM trials WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def statuses(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, status FROM trials"))

    def claim_trial(self, spec: TrialSpec, optimum: float, provenance: dict[str, Any], owner: str) -> bool:
        """Register ``spec`` as running under ``owner`` unless another live runner holds it.

        A claim is free when the trial is new, failed, or running under a lapsed lease or a dead
        process on this host. A partial earlier attempt is wiped (it is redone from its seed).
        """
        now = time.time()
        with self._writing():
            self.db.execute("BEGIN IMMEDIATE")  # one claimer at a time across processes
            row = self.db.execute("SELECT status, owner, lease_until FROM trials WHERE key=?", (spec.key,)).fetchone()
            if row and row[0] == "done":
                return False
            if row and row[0] == "running" and row[1] != owner and claim_is_live(row[1], row[2], now):
                return False
            self.db.execute("DELETE FROM observations WHERE trial=?", (spec.key,))
            self.db.execute(
                "INSERT OR REPLACE INTO trials VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    spec.key,
                    spec.suite,
                    spec.benchmark,
                    spec.dataset,
                    spec.objective,
                    spec.report,
                    spec.noise,
                    spec.searcher,
                    spec.label,
                    spec.params,
                    spec.budget.evaluations,
                    spec.budget.seconds,
                    spec.seed,
                    spec.searcher_seed,
                    spec.benchmark_seed,
                    optimum,
                    "running",
                    None,
                    json.dumps(asdict(spec), sort_keys=True),
                    json.dumps(provenance, sort_keys=True),
                    now,
                    None,
                    None,
                    owner,
                    now + LEASE_SECONDS,
                ),
            )
        return True

    def renew_leases(self, owner: str) -> None:
        with self._writing():
            self.db.execute(
                "UPDATE trials SET lease_until=? WHERE owner=? AND status='running'",
                (time.time() + LEASE_SECONDS, owner),
            )

    def add_observations(self, key: str, observations: list[Observation]) -> None:
        with self._writing():
            self.db.executemany(
                "INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (key, o.step, o.arch, o.epochs, o.objective, o.reported, o.regret, o.cost_seconds, o.wall_seconds)
                    for o in observations
                ],
            )

    def finish_trial(self, key: str, error: str | None = None, info: dict[str, Any] | None = None) -> None:
        with self._writing():
            self.db.execute(
                "UPDATE trials SET status=?, error=?, finished=?, searcher_info=?, lease_until=NULL WHERE key=?",
                ("failed" if error else "done", error, time.time(), json.dumps(info or {}, sort_keys=True), key),
            )

    def trials(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM trials ORDER BY dataset, label, seed", self.db)

    def progress(self) -> pd.DataFrame:
        """``trials()`` with two more statuses: "interrupted" for running trials whose runner is gone (a
        lapsed lease or a dead process on this host; the next ``run`` redoes them from their seeds), and
        "superseded" for the other finished, failed or interrupted trials of a slot whose latest finished
        trial counts (runs by older code or on older data)."""
        trials, now = self.trials(), time.time()
        rows = zip(trials["status"], trials["owner"], trials["lease_until"], strict=True)
        gone = [status == "running" and not claim_is_live(owner, lease, now) for status, owner, lease in rows]
        trials.loc[gone, "status"] = "interrupted"
        slots = pd.Series([TrialSpec.from_json(spec).slot for spec in trials["spec"]], index=trials.index)
        done = trials["status"] == "done"
        latest = trials[done].assign(slot=slots[done]).sort_values("finished").groupby("slot")["key"].last()
        replaced = slots.isin(latest.index) & ~trials["key"].isin(latest) & (trials["status"] != "running")
        trials.loc[replaced, "status"] = "superseded"
        return trials

    def observations(self, status: str = "done") -> pd.DataFrame:
        """Observations joined with their trial's columns (only trials with ``status``)."""
        query = """SELECT t.suite, t.benchmark, t.dataset, t.objective AS objective_metric, t.report AS report_metric,
                          t.label AS searcher, t.searcher AS searcher_class, t.params, t.budget_evaluations,
                          t.budget_seconds, t.seed, t.optimum, o.*
                   FROM observations o JOIN trials t ON o.trial = t.key WHERE t.status = ?
                   ORDER BY o.trial, o.step"""
        return pd.read_sql_query(query, self.db, params=(status,))

    def export(self, out: str | Path, fmt: str) -> list[Path]:
        """Write trials and observations as parquet or CSV files next to each other."""
        if fmt not in ("parquet", "csv"):
            raise TnasbenchError(f"unknown export format {fmt!r}: choose parquet or csv")
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("trials", self.progress()), ("observations", self.observations())):
            target = out / f"{name}.{fmt}"
            frame.to_parquet(target, index=False) if fmt == "parquet" else frame.to_csv(target, index=False)
            written.append(target)
        return written


def owner_id() -> str:
    """This runner's identity in claims: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_is_live(owner: str | None, lease_until: float | None, now: float) -> bool:
    """Whether a running trial's runner still holds it: its lease has not lapsed and it is not dead."""
    return (lease_until or 0) > now and owner_alive(owner)


def owner_alive(owner: str | None) -> bool:
    """False only when ``owner`` is a process on this host that no longer exists."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's runner: trust its lease
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
