"""Run a suite: expand it into trials, skip finished ones, run the rest, write every observation."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import pickle
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tnasbench.benchmarks.kinds import benchmark_kind, check_shippable
from tnasbench.benchmarks.protocol import Benchmark, Query
from tnasbench.benchmarks.tables import tables_state
from tnasbench.errors import TnasbenchError
from tnasbench.limits import TrialGuard, TrialTimeout
from tnasbench.provenance import provenance
from tnasbench.searchers import SearchContext, get_searcher
from tnasbench.searchers.oneshot import OneShotSearcher
from tnasbench.searchers.registry import check_params, check_space, runtime_searchers
from tnasbench.seeding import seed_everything
from tnasbench.space import SearchSpace, get_space
from tnasbench.store import Observation, Store, owner_id
from tnasbench.suite import DEFAULT_TRIAL_TIMEOUT, Suite, TrialSpec
from tnasbench.workers import pool_worker_init


@dataclass
class TrialOutcome:
    key: str
    observations: list[Observation] = field(default_factory=list)
    error: str | None = None
    info: dict = field(default_factory=dict)  # the searcher's describe(): variant actually run, cache hits


def make_benchmark(spec: TrialSpec) -> Benchmark:
    """The benchmark a trial evaluates on, seeded by the repetition (shared by all searchers)."""
    return benchmark_kind(spec.benchmark).build(spec)


@cache
def _facts(spec: TrialSpec, tables: tuple) -> tuple[str, str, float]:
    bench = make_benchmark(spec)
    return bench.report, ",".join(f"{k}={v}" for k, v in sorted(bench.signature().items())), bench.optimum()


def benchmark_facts(spec: TrialSpec) -> tuple[str, str, float]:
    """(report metric, data signature, optimum): the same for every repetition, so built once per state
    of the imported tables (an import in this process changes them)."""
    return _facts(replace(spec, seed=0, suite="", suite_seed=0, signature="", searcher_version=""), tables_state())


def resolve(spec: TrialSpec) -> TrialSpec:
    """Fill in what the key depends on: the report metric, data signature, searcher version."""
    report, signature, _ = benchmark_facts(spec)
    space = get_space(benchmark_kind(spec.benchmark).space)
    version = get_searcher(spec.searcher).version_for(spec.searcher_params, space)
    return replace(spec, report=report, signature=signature, searcher_version=version)


def _unpack(proposal: object, space: SearchSpace, label: str) -> tuple[Any, int | None]:
    if isinstance(proposal, Query):
        proposal, epochs = proposal.arch, proposal.epochs
    else:
        epochs = None
    if not space.contains(proposal):
        raise TnasbenchError(f"searcher {label!r} proposed {proposal!r}, which is not a cell of the {space.name} space")
    return proposal, epochs


def run_trial(spec: TrialSpec, timeout: float = DEFAULT_TRIAL_TIMEOUT) -> TrialOutcome:
    """One seeded search of at most ``timeout`` seconds; never raises for searcher faults (the outcome
    carries the error), including a searcher's SystemExit or KeyboardInterrupt (see TrialGuard).

    Torch runs on one thread during the trial: float sums depend on the thread count, and GP fits
    amplify such differences into other proposals, so this keeps a seed's trajectory the same
    however the runner was started (CLI, notebook, process pool, Dask worker).
    """
    import torch  # here, not at the top: a run whose trials are all stored never needs it

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with TrialGuard(timeout) as guard:
            return _run_trial(spec, guard)
    except TrialTimeout as error:  # the alarm went off as the trial was finishing
        return TrialOutcome(spec.key, error=str(error))
    finally:
        torch.set_num_threads(threads)


def _run_trial(spec: TrialSpec, guard: TrialGuard) -> TrialOutcome:
    from tnasbench.oneshot_trial import run_one_shot
    from tnasbench.searchers.context import build_context

    outcome = TrialOutcome(spec.key)
    try:
        seed_everything(spec.searcher_seed)
        benchmark = make_benchmark(spec)
        cls = get_searcher(spec.searcher)
        if issubclass(cls, OneShotSearcher):
            outcome.observations, outcome.info = run_one_shot(spec, cls(**spec.searcher_params), benchmark)
            return outcome
        space = get_space(benchmark_kind(spec.benchmark).space)
        context: SearchContext = build_context(spec)
        searcher = cls(**spec.searcher_params)
        started = time.perf_counter()
        searcher.setup(space, context, spec.searcher_seed)
        compute = {"setup_seconds": time.perf_counter() - started, "ask_tell_seconds": 0.0}
        optimum = benchmark.optimum()
        best, incumbent_reported, spent = (-1, -math.inf), -math.inf, 0.0
        step = 0
        while not spec.budget.exhausted(step, spent):
            guard.check()
            start = time.perf_counter()
            arch, epochs = _unpack(searcher.ask(), space, spec.label)
            asked = time.perf_counter()
            evaluation = benchmark.evaluate(arch, epochs)
            result = evaluation.result
            evaluated = time.perf_counter()
            searcher.tell(arch, result)
            compute["ask_tell_seconds"] += (asked - start) + (time.perf_counter() - evaluated)
            step += 1
            spent += result.cost_seconds
            # the incumbent is chosen on what the searcher saw, a higher fidelity always preferred
            if (result.epochs, result.accuracy) > best:
                best, incumbent_reported = (result.epochs, result.accuracy), evaluation.reported
            index, text = (space.index(arch), None) if space.enumerable else (-1, space.to_string(arch))
            outcome.observations.append(
                Observation(
                    step,
                    index,
                    result.epochs,
                    result.accuracy,
                    evaluation.reported,
                    optimum - incumbent_reported,
                    evaluation.result.cost_seconds,
                    time.perf_counter() - start,
                    text,
                )
            )
        # the searcher's own compute (measured) and the task's scale, beside what the searcher says of itself
        compute = {k: round(v, 4) for k, v in compute.items()}
        outcome.info = searcher.describe() | {"compute": compute, "scale": asdict(benchmark.scale())}
    except TrialTimeout as error:
        outcome.error = str(error)
    except (Exception, SystemExit, KeyboardInterrupt) as error:  # a faulty searcher fails its trial, the suite goes on
        if isinstance(error, KeyboardInterrupt) and guard.user_interrupt:
            raise
        summary = f"{type(error).__name__}: {error}"
        frames = traceback.extract_tb(error.__traceback__)
        where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        outcome.error = summary + where
    return outcome


def run_suite(
    suite: Suite,
    store: Store,
    jobs: int = 1,
    show_progress: bool = True,
    scheduler: str | None = None,
    trial_timeout: float | None = None,
) -> dict[str, int]:
    """Run every trial of ``suite`` not yet done in ``store``; returns counts by outcome."""
    specs = [resolve(spec) for spec in suite.trials()]
    timeout = trial_timeout or suite.trial_timeout
    return run_specs(suite.name, specs, store, jobs, show_progress, scheduler, timeout)


def compare_specs(store: Store, searcher: str, params: dict | None = None, label: str | None = None) -> list[TrialSpec]:
    """The trials ``searcher`` needs to be compared with everything in ``store``: same benchmarks, seeds, budgets."""
    check_params(searcher, params or {})  # a clear error for an unknown name or parameter before anything runs
    trials = store.trials()
    done = trials[trials["status"] == "done"]
    if done.empty:
        raise TnasbenchError(f"{store.path} has no finished trials to compare against: run a suite into it first")
    settings = json.dumps(params or {}, sort_keys=True)
    specs = {}
    for benchmark in sorted(set(done["benchmark"])):  # a searcher that cannot search a stored space: refused now
        check_space(searcher, benchmark, params)
    for text in done["spec"]:
        spec = TrialSpec.from_json(text)
        new = resolve(replace(spec, searcher=searcher, label=label or searcher, params=settings))
        specs[new.key] = new
    return sorted(specs.values(), key=lambda s: (s.dataset, s.budget.evaluations or 0, s.seed))


def check_labels(store: Store, specs: list[TrialSpec]) -> None:
    """Refuse specs whose label already names another searcher or other params in ``store`` (or among them):
    reports group trials by label, so two searchers under one label would be silently pooled."""
    named = store.labels()
    for spec in specs:
        named.setdefault(spec.label, set()).add((spec.searcher, spec.params))
        if len(named[spec.label]) > 1:
            (searcher, params), *_ = sorted(named[spec.label] - {(spec.searcher, spec.params)})
            raise TnasbenchError(
                f"label {spec.label!r} already names searcher {searcher} with params {params} in {store.path}: "
                f"give {spec.searcher} with params {spec.params} another label"
            )


def superseding(store: Store, specs: list[TrialSpec]) -> int:
    """How many of ``specs`` will re-run a trial the store has finished under other code or data."""
    trials = store.trials()
    finished = {TrialSpec.from_json(text).slot for text in trials.loc[trials["status"] == "done", "spec"]}
    done = set(trials.loc[trials["status"] == "done", "key"])
    return sum(spec.slot in finished and spec.key not in done for spec in specs)


def run_specs(
    title: str,
    specs: list[TrialSpec],
    store: Store,
    jobs: int = 1,
    show_progress: bool = True,
    scheduler: str | None = None,
    trial_timeout: float = DEFAULT_TRIAL_TIMEOUT,
) -> dict[str, int]:
    """Run the trials not yet done in ``store``: in this process, a local process pool (``jobs`` > 1) or
    on a Dask cluster (``scheduler``). This process stays the store's only writer; counts by outcome.
    Each trial fails once it has run ``trial_timeout`` seconds (see TrialGuard for how).

    A done trial whose observations are incomplete is redone. "elsewhere" counts trials left to
    another live runner; a trial this runner lost to another (its lease lapsed) counts as skipped.
    """
    if jobs < 1:
        raise TnasbenchError(f"--jobs must be at least 1, got {jobs}")
    check_labels(store, specs)
    incomplete = store.incomplete()
    store.reopen([s.key for s in specs if s.key in incomplete], "its observations were incomplete: redone")
    progress = store.progress()
    stale = set(progress.loc[progress["status"] == "stale", "key"])  # on data its dataset has since moved on from
    store.reopen([s.key for s in specs if s.key in stale], "ran on older data than its dataset's latest trials: redone")
    done = {k for k, s in store.statuses().items() if s == "done"}
    pending = [s for s in specs if s.key not in done]
    counts = {"skipped": len(specs) - len(pending), "done": 0, "failed": 0, "elsewhere": 0}
    facts = provenance() if pending else {}  # (it imports torch, which a run with nothing to do never needs)
    # searchers registered in this process go to the workers with them (checked before anything is claimed)
    shipped = runtime_searchers({spec.searcher for spec in pending}) if jobs > 1 or scheduler else {}
    if jobs > 1 or scheduler:
        check_shippable({spec.benchmark for spec in pending})
    if scheduler:
        from tnasbench.distributed import dask_client, on_dask
    client = dask_client(scheduler, shipped) if scheduler and pending else None  # connect before claiming
    owner = owner_id()

    def record(spec: TrialSpec, outcome: TrialOutcome) -> None:
        if store.record(spec.key, owner, outcome.observations, outcome.error, outcome.info):
            counts["failed" if outcome.error else "done"] += 1
        else:
            counts["skipped"] += 1  # its lease lapsed and another runner ran it: that run counts
        progress.advance(task)

    def claim(spec: TrialSpec) -> bool:
        """Claim a trial only when it is about to run, so that a runner started later shares the rest."""
        if store.claim_trial(spec, benchmark_facts(spec)[2], facts, owner):
            return True
        counts["elsewhere"] += 1  # held by another live runner on this store
        progress.advance(task)
        return False

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not show_progress, transient=False) as progress, _Heartbeat(store.path, owner):
        task = progress.add_task(f"{title}: {len(pending)} trials to run", total=len(pending))
        if client is not None:  # the cluster schedules: every trial is submitted (and claimed) up front
            for spec, outcome in on_dask(client, [spec for spec in pending if claim(spec)], trial_timeout):
                record(spec, outcome)
        elif jobs == 1:
            for spec in pending:
                if claim(spec):
                    record(spec, run_trial(spec, trial_timeout))
        else:
            # spawned, not forked: forking a process with live threads (the heartbeat, a Dask client's
            # IO loop) can copy a held lock into the child and hang it. Workers watch this process and
            # exit when it dies, whenever that is (see workers.watch_parent).
            spawn = multiprocessing.get_context("spawn")
            init = (os.getpid(), pickle.dumps(shipped))
            with ProcessPoolExecutor(jobs, spawn, pool_worker_init, init) as pool:
                queue, running = SetupQueue(pending), {}
                while True:
                    while len(running) < 2 * jobs and (spec := queue.next()) is not None:  # keep the workers fed
                        if claim(spec):
                            running[pool.submit(run_trial, spec, trial_timeout)] = spec
                        else:
                            queue.done(spec, finished=False)  # another runner holds it
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        spec, outcome = running.pop(future), future.result()
                        queue.done(spec, finished=outcome.error is None)  # a failed one may not have cached it
                        record(spec, outcome)
    return counts


class SetupQueue:
    """Pending trials in suite order, handed out so that no two with one ``shared_setup`` key (say, TNAS
    variants that share a meta-training) are in flight before the first of them has finished: the later waits
    here, not on the cache's lock in a worker, and the trials after it go first, so the meta-trainings a suite
    needs run side by side. Once a trial with a key has finished, the others with that key run freely."""

    def __init__(self, specs: list[TrialSpec]) -> None:
        self._waiting = list(specs)
        self._keys = {spec.key: _setup_key(spec) for spec in specs}
        self._busy: set[str] = set()  # keys whose first trial is in flight
        self._ready: set[str] = set()  # keys one trial has finished with (the shared setup is cached)

    def next(self) -> TrialSpec | None:
        """The first waiting trial whose setup key is not in flight; None when there is none (now)."""
        for index, spec in enumerate(self._waiting):
            key = self._keys[spec.key]
            if key is not None and key not in self._ready:
                if key in self._busy:
                    continue  # its setup is being made: wait for it
                self._busy.add(key)
            return self._waiting.pop(index)
        return None

    def done(self, spec: TrialSpec, finished: bool = True) -> None:
        """``spec`` has ``finished`` (its setup is cached), or failed or will not run here: its key is free."""
        key = self._keys[spec.key]
        if key is not None and key in self._busy:
            self._busy.discard(key)
            if finished:
                self._ready.add(key)


def _setup_key(spec: TrialSpec) -> str | None:
    """The trial's ``shared_setup`` key; None for searchers without one (one-shot ones) and for params the
    key cannot be computed from (the trial then fails in its worker with the error recorded, as any other)."""
    hook = getattr(get_searcher(spec.searcher), "shared_setup", None)
    try:
        return hook(spec) if hook is not None else None
    except Exception:
        return None


class _Heartbeat:
    """Renews this runner's claims every minute from a thread with its own connection."""

    def __init__(self, path, owner: str, every: float = 60.0) -> None:
        self.path, self.owner, self.every = path, owner, every
        self._stop = threading.Event()

    def _beat(self) -> None:
        store = Store(self.path)
        while not self._stop.wait(self.every):
            store.renew_leases(self.owner)
        store.close()

    def __enter__(self) -> _Heartbeat:
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
