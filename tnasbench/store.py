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

SCHEMA_VERSION = 4  # 2 added trials.searcher_info, 3 the claim (owner, lease_until), 4 observations.cell
STATUSES = ("running", "done", "failed")
MIGRATIONS = {  # from version N to N + 1: (table, column added)
    1: [("trials", "searcher_info TEXT")],
    2: [("trials", "owner TEXT"), ("trials", "lease_until REAL")],
    3: [("observations", "cell TEXT")],
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
    cell TEXT, PRIMARY KEY (trial, step));
"""


@dataclass(frozen=True)
class Observation:
    step: int  # 1-based evaluation number
    arch: int  # cell index (-1 on a space too large to enumerate: ``cell`` names it)
    epochs: int  # fidelity of the evaluation (training epochs)
    objective: float  # what the searcher saw
    reported: float  # the report metric of the same cell
    regret: float  # optimum of the report metric minus the incumbent's reported value
    cost_seconds: float
    wall_seconds: float
    cell: str | None = None  # the cell in its space's notation, where it has no index


def _row(key: str, o: Observation) -> tuple:
    return (key, o.step, o.arch, o.epochs, o.objective, o.reported, o.regret, o.cost_seconds, o.wall_seconds, o.cell)


class Store:
    """A SQLite result store; the process that opens it is its only writer."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        """Open (or, unless ``readonly``, create) the store at ``path``.

        Nothing is written to a file that is not already a tnasbench store: a foreign SQLite
        database, a zero-byte file or another kind of file is refused as it is. A store opened
        ``readonly`` (or one this process cannot write) is read through a ``mode=ro`` connection.
        """
        self.path = Path(path)
        if self.path.is_dir():
            raise TnasbenchError(f"{self.path} is a folder, not a store: pass a file path such as {self.path}/s.sqlite")
        exists = self.path.is_file()
        if readonly and not (exists and self.path.stat().st_size):
            state = "is an empty file, not a tnasbench store" if exists else "no such store"
            raise TnasbenchError(f"{self.path}: {state} (create one with `tnasbench run SUITE --store {self.path}`)")
        self.readonly = readonly or (exists and not os.access(self.path, os.W_OK))
        try:
            self.db = self._connect(exists)
            version = _schema_version(self.db, self.path)
            if self.readonly and version is None:
                raise TnasbenchError(f"{self.path} is an empty SQLite database, not a tnasbench store")
            if version is not None and version > SCHEMA_VERSION:
                raise TnasbenchError(
                    f"{self.path} has store schema {version}, this tnasbench reads schema {SCHEMA_VERSION}: "
                    "upgrade tnasbench"
                )
            if not self.readonly:
                self._prepare(version)
        except sqlite3.DatabaseError as error:
            raise TnasbenchError(
                f"{self.path} is not a tnasbench store ({error}): pass the path of a tnasbench store"
            ) from None

    def _connect(self, exists: bool) -> sqlite3.Connection:
        if self.readonly:
            try:
                db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
                db.execute("SELECT 1 FROM sqlite_master").fetchall()
                return db
            except sqlite3.OperationalError:  # a WAL store in a folder nobody may write: read the file as it is
                return sqlite3.connect(f"file:{self.path}?immutable=1", uri=True)
        parent = next((p for p in self.path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise TnasbenchError(f"{self.path} lies under {parent}, which is a file: pass another --store path")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TnasbenchError(
                f"cannot create the folder of {self.path} ({error}): pass another --store path"
            ) from None
        return sqlite3.connect(self.path, timeout=30)

    def _prepare(self, version: int | None) -> None:
        """Create a new store's tables, or migrate an older schema in place."""
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        with self._writing():
            if version is None:
                self.db.executescript(SCHEMA)
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif version < SCHEMA_VERSION:
                self.db.executescript(SCHEMA)  # tables an old store may lack
                for step in range(version, SCHEMA_VERSION):
                    for table, column in MIGRATIONS[step]:
                        present = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
                        if column.split()[0] not in present:  # a table the old store lacked was made whole above
                            self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
                self.db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction; a full disk becomes one clear error and the transaction is rolled back."""
        try:
            with self.db:
                yield
        except sqlite3.OperationalError as error:
            if "readonly" in str(error):
                raise TnasbenchError(
                    f"cannot write {self.path}: it is read-only; copy it or pass another --store"
                ) from None
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
                "INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?)",
                [_row(key, o) for o in observations],
            )

    def finish_trial(self, key: str, error: str | None = None, info: dict[str, Any] | None = None) -> None:
        with self._writing():
            self.db.execute(
                "UPDATE trials SET status=?, error=?, finished=?, searcher_info=?, lease_until=NULL WHERE key=?",
                ("failed" if error else "done", error, time.time(), json.dumps(info or {}, sort_keys=True), key),
            )

    def record(
        self, key: str, owner: str, observations: list[Observation], error: str | None, info: dict[str, Any]
    ) -> bool:
        """Write a finished trial's observations and status in one transaction, if ``owner`` still holds it.

        A runner paused past its lease may find its trial taken over and finished by another: then
        nothing is written and False returned (the other run counts).
        """
        with self._writing():
            self.db.execute("BEGIN IMMEDIATE")
            row = self.db.execute("SELECT status, owner FROM trials WHERE key=?", (key,)).fetchone()
            if row is None or row != ("running", owner):
                return False
            self.db.execute("DELETE FROM observations WHERE trial=?", (key,))
            self.db.executemany(
                "INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?)",
                [_row(key, o) for o in observations],
            )
            self.db.execute(
                "UPDATE trials SET status=?, error=?, finished=?, searcher_info=?, lease_until=NULL WHERE key=?",
                ("failed" if error else "done", error, time.time(), json.dumps(info, sort_keys=True), key),
            )
        return True

    def trials(self) -> pd.DataFrame:
        frame = pd.read_sql_query("SELECT * FROM trials ORDER BY dataset, label, seed", self.db)
        for column in ("searcher_info", "owner", "lease_until"):  # an older schema read without migrating it
            if column not in frame:
                frame[column] = None
        return frame

    def incomplete(self) -> dict[str, str]:
        """Finished trials whose observations are not steps 1..n of their budget: {key: what is wrong}."""
        query = """SELECT t.key, t.budget_evaluations, t.searcher_info, COUNT(o.step), MIN(o.step), MAX(o.step)
                   FROM trials t LEFT JOIN observations o ON o.trial = t.key
                   WHERE t.finished IS NOT NULL AND t.error IS NULL GROUP BY t.key"""
        found = {}
        for key, evaluations, info, n, low, high in self.db.execute(query):
            expected = 1 if json.loads(info or "{}").get("one_shot") else evaluations
            if n == 0 or low != 1 or high != n or (expected is not None and n != expected):
                found[key] = f"{n} observations, steps {low}..{high}"
        return found

    def reopen(self, keys: list[str], reason: str) -> None:
        """Mark finished trials as failed with ``reason`` so that the next run redoes them from their seeds."""
        with self._writing():
            self.db.executemany(
                "UPDATE trials SET status='failed', error=? WHERE key=? AND status='done'", [(reason, k) for k in keys]
            )

    def labels(self) -> dict[str, set[tuple[str, str]]]:
        """The (searcher, params) pairs stored under each label (more than one would pool searchers)."""
        found: dict[str, set[tuple[str, str]]] = {}
        for label, searcher, params in self.db.execute("SELECT DISTINCT label, searcher, params FROM trials"):
            found.setdefault(label, set()).add((searcher, params))
        return found

    def progress(self) -> pd.DataFrame:
        """``trials()`` with three more statuses: "interrupted" for running trials whose runner is gone (a
        lapsed lease or a dead process on this host; the next ``run`` redoes them from their seeds),
        "superseded" for the other finished, failed or interrupted trials of a slot whose latest finished
        trial counts (runs by older code or on older data), and "stale" for finished trials on other data than
        the latest finished trial of their data (benchmark, dataset, objective, noise, live recipe) that all
        finished before the first trial on that latest data (a re-run after ``data import`` that stopped
        part-way): a suite's next ``run`` redoes those it lists; reports count neither. Trials on different
        data that interleave in time (two runners on different tables) stay "done", for reports to refuse."""
        trials, now = self.trials(), time.time()
        rows = zip(trials["status"], trials["owner"], trials["lease_until"], strict=True)
        gone = [status == "running" and not claim_is_live(owner, lease, now) for status, owner, lease in rows]
        trials.loc[gone, "status"] = "interrupted"
        specs = [TrialSpec.from_json(spec) for spec in trials["spec"]]
        slots = pd.Series([spec.slot for spec in specs], index=trials.index)
        done = trials["status"] == "done"
        by_time = trials[done].assign(slot=slots[done]).sort_values("finished", kind="stable", na_position="first")
        latest = by_time.groupby("slot")["key"].last()
        replaced = slots.isin(latest.index) & ~trials["key"].isin(latest) & (trials["status"] != "running")
        trials.loc[replaced, "status"] = "superseded"
        data = trials.assign(
            signature=[spec.signature for spec in specs],
            data=[(s.benchmark, s.dataset, s.objective, s.noise, s.live) for s in specs],  # what the signature hashes
        )
        done = (data["status"] == "done") & data["finished"].notna()
        ordered = data[done].sort_values("finished", kind="stable")
        current = ordered.groupby("data")["signature"].last()
        on_current = ordered[ordered["signature"] == ordered["data"].map(current)]
        since = on_current.groupby("data")["finished"].min()  # when the latest data's first trial finished
        older = done & (data["signature"] != data["data"].map(current)) & (data["finished"] < data["data"].map(since))
        trials.loc[older, "status"] = "stale"
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
        for name, frame in (("trials", self.progress()), ("observations", _with_cell_names(self.observations()))):
            target = out / f"{name}.{fmt}"
            frame.to_parquet(target, index=False) if fmt == "parquet" else frame.to_csv(target, index=False)
            written.append(target)
        return written


def _with_cell_names(observations: pd.DataFrame) -> pd.DataFrame:
    """``cell`` filled in the space's notation where the store holds only the index (enumerable spaces; a
    benchmark not installed here keeps its indices only)."""
    from tnasbench.benchmarks.kinds import benchmark_kind
    from tnasbench.space import get_space

    if "cell" not in observations:
        observations["cell"] = None
    missing = observations["cell"].isna()
    for benchmark in observations.loc[missing, "benchmark"].unique():
        try:
            space = get_space(benchmark_kind(benchmark).space)
        except TnasbenchError:
            continue
        rows = missing & (observations["benchmark"] == benchmark)
        names = {i: space.to_string(space.arch(int(i))) for i in observations.loc[rows, "arch"].unique()}
        observations.loc[rows, "cell"] = observations.loc[rows, "arch"].map(names)
    return observations


def _schema_version(db: sqlite3.Connection, path: Path) -> int | None:
    """The store schema of ``db``: None for a database with no tables; anything else is refused."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if not {"meta", "trials"} <= tables:
        raise TnasbenchError(
            f"{path} is a SQLite database but not a tnasbench store (tables {', '.join(sorted(tables)[:4])}): "
            "pass the path of a tnasbench store"
        )
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    try:
        version = int(row[0])
        if version < 1:
            raise ValueError(version)
        return version
    except (TypeError, ValueError):
        raise TnasbenchError(
            f"{path}: store schema version {row[0] if row else None!r} is not a number (damaged store?): "
            "restore it from a copy"
        ) from None


def owner_id() -> str:
    """This runner's identity in claims: host, process id and (on Linux) the process's start time."""
    start = _start_time(os.getpid())
    return f"{socket.gethostname()}:{os.getpid()}" + (f":{start}" if start else "")


def _start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot), which tells it from a later one with its pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def claim_is_live(owner: str | None, lease_until: float | None, now: float) -> bool:
    """Whether a running trial's runner still holds it: its lease has not lapsed and it is not dead."""
    return (lease_until or 0) > now and owner_alive(owner)


def owner_alive(owner: str | None) -> bool:
    """False only when ``owner`` is a process on this host that no longer exists (or whose pid was reused)."""
    host, pid, start = ((owner or "").split(":") + ["", ""])[:3]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's runner: trust its lease
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not start or _start_time(int(pid)) in ("", start)
