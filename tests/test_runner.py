import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from tnasbench.benchmarks.protocol import Result
from tnasbench.runner import run_suite
from tnasbench.searchers import Searcher, register
from tnasbench.searchers.random_search import RandomSearch
from tnasbench.store import Store
from tnasbench.suite import load_suite

SUITE = """
name = "runner-test"
datasets = ["cifar10", "cifar100"]
seeds = [0, 1, 2]
budgets = [{{evaluations = {evaluations}}}]
[[searchers]]
name = "random-search"
[[searchers]]
name = "local-search"
"""
DETERMINISTIC = ["trial", "step", "arch", "objective", "reported", "regret", "cost_seconds"]


def suite_file(tmp_path, evaluations=30, seeds=None, extra=""):
    text = SUITE.format(evaluations=evaluations)
    if seeds is not None:
        text = text.replace("[0, 1, 2]", str(list(seeds)))
    path = tmp_path / "suite.toml"
    path.write_text(text + extra)
    return path


def observations(path):
    return Store(path).observations()[DETERMINISTIC].sort_values(["trial", "step"]).reset_index(drop=True)


def test_run_records_every_observation_and_skips_done_trials(tmp_path):
    suite = load_suite(suite_file(tmp_path))
    store = Store(tmp_path / "s.sqlite")
    assert run_suite(suite, store, show_progress=False) == {"skipped": 0, "done": 12, "failed": 0, "elsewhere": 0}
    obs = store.observations()
    assert len(obs) == 12 * 30
    assert (obs.groupby("trial")["step"].max() == 30).all()
    assert run_suite(suite, store, show_progress=False) == {"skipped": 12, "done": 0, "failed": 0, "elsewhere": 0}
    assert len(store.observations()) == 12 * 30


def test_regret_tracks_the_incumbent_chosen_on_the_objective(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_suite(load_suite(suite_file(tmp_path)), store, show_progress=False)
    for _, trial in store.observations().groupby("trial"):
        best = trial["objective"].cummax()
        incumbent = trial.loc[trial["objective"].eq(best) & ~best.duplicated(), "reported"]
        expected = trial["optimum"] - incumbent.reindex(trial.index).ffill()
        assert (trial["regret"] - expected).abs().max() < 1e-9
        assert (trial["regret"] >= 0).all()


def test_same_suite_gives_identical_observations_with_one_or_two_jobs(tmp_path):
    path = suite_file(tmp_path)
    run_suite(load_suite(path), Store(tmp_path / "one.sqlite"), jobs=1, show_progress=False)
    run_suite(load_suite(path), Store(tmp_path / "two.sqlite"), jobs=2, show_progress=False)
    pd.testing.assert_frame_equal(observations(tmp_path / "one.sqlite"), observations(tmp_path / "two.sqlite"))


HELD = threading.Lock()  # held by a parent thread while the pool runs; a forked worker would inherit it held


@register
class LockProbe(RandomSearch):
    """Random search that first takes HELD: it can only run in a worker that did not copy the parent's locks."""

    name = "test-lock-probe"

    def setup(self, space, context, seed):
        with HELD:
            super().setup(space, context, seed)


@pytest.mark.timeout(120)
def test_workers_get_run_time_searchers_and_none_of_the_parents_held_locks(tmp_path):
    path = suite_file(tmp_path, evaluations=5, seeds=[0])
    path.write_text(path.read_text().replace('name = "local-search"', 'name = "test-lock-probe"'))
    run_suite(load_suite(path), Store(tmp_path / "one.sqlite"), jobs=1, show_progress=False)
    with HELD:
        counts = run_suite(load_suite(path), Store(tmp_path / "two.sqlite"), jobs=2, show_progress=False)
    assert counts == {"skipped": 0, "done": 4, "failed": 0, "elsewhere": 0}
    pd.testing.assert_frame_equal(observations(tmp_path / "one.sqlite"), observations(tmp_path / "two.sqlite"))


@register
class SharedSetupProbe(RandomSearch):
    """Random search whose setup takes 2 s and records when it ran; the trials of one seed share a setup key
    (as TNAS variants sharing a meta-training do)."""

    name = "test-shared-setup"

    @classmethod
    def shared_setup(cls, spec):
        return f"seed {spec.seed}"

    def setup(self, space, context, seed):
        began = time.time()
        time.sleep(2.0)
        self._window = [began, time.time()]
        super().setup(space, context, seed)

    def describe(self):
        return {"setup_window": self._window}


def _probe_suite(tmp_path):
    path = suite_file(tmp_path, evaluations=3, seeds=[0, 1])
    text = path.read_text().replace('name = "random-search"\n', "").replace('"local-search"', '"test-shared-setup"')
    path.write_text(text.replace("[[searchers]]\n[[searchers]]", "[[searchers]]"))
    return load_suite(path)


def test_the_queue_holds_back_a_trial_whose_setup_key_is_in_flight(tmp_path):
    from tnasbench.runner import SetupQueue, resolve

    specs = [resolve(spec) for spec in _probe_suite(tmp_path).trials()]
    assert [s.seed for s in specs] == [0, 0, 1, 1]  # suite order: block by block
    queue = SetupQueue(specs)
    first, second = queue.next(), queue.next()
    assert (first.seed, second.seed) == (0, 1)  # seed 0's second trial waits; seed 1's goes ahead of it
    assert queue.next() is None
    queue.done(first)
    assert queue.next() == specs[1]


def test_once_a_trial_with_a_key_has_finished_the_others_with_it_run_freely(tmp_path, monkeypatch):
    from tnasbench import runner
    from tnasbench.runner import SetupQueue, resolve

    monkeypatch.setattr(runner, "_setup_key", lambda spec: "one key")
    specs = [resolve(spec) for spec in _probe_suite(tmp_path).trials()]
    queue = SetupQueue(specs)
    first = queue.next()
    assert queue.next() is None
    queue.done(first, finished=False)  # it failed (or another runner held it): the next one sets up alone again
    second = queue.next()
    assert second == specs[1] and queue.next() is None
    queue.done(second)
    assert [queue.next(), queue.next(), queue.next()] == [specs[2], specs[3], None]


def test_searchers_without_a_setup_key_and_params_it_cannot_be_computed_from_are_never_held():
    from tnasbench.runner import SetupQueue, _setup_key
    from tnasbench.testing import conformance_spec

    one_shot = conformance_spec("gdas", {}, 0, 1)  # one-shot searchers have no shared_setup
    refused = conformance_spec("tnas-nometa", {"initial_design": "top"}, 0, 5)  # fails in its trial, as before
    assert _setup_key(one_shot) is None and _setup_key(refused) is None
    queue = SetupQueue([one_shot, refused, one_shot])
    assert [queue.next(), queue.next(), queue.next()] == [one_shot, refused, one_shot]


@pytest.mark.timeout(180)
def test_two_workers_never_run_trials_sharing_a_setup_at_once_and_start_another_key_first(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    assert run_suite(_probe_suite(tmp_path), store, jobs=2, show_progress=False)["done"] == 4
    trials = store.trials()
    windows = [
        (json.loads(spec)["seed"], *json.loads(info)["setup_window"])
        for spec, info in zip(trials["spec"], trials["searcher_info"], strict=True)
    ]

    def overlap(a, b):
        return a[1] < b[2] and b[1] < a[2]

    pairs = [(a, b) for i, a in enumerate(windows) for b in windows[i + 1 :]]
    assert not any(overlap(a, b) for a, b in pairs if a[0] == b[0])
    # seed 1's first trial was handed out ahead of seed 0's second (whether the two workers' setups then overlap
    # depends on how fast each worker process started, so that is not asserted)
    first, second = sorted(windows, key=lambda w: w[1])[:2]
    assert first[0] != second[0]


def test_a_searcher_defined_inside_a_function_cannot_go_to_workers_and_says_so(tmp_path):
    @register
    class Local(RandomSearch):
        name = "test-local-only"

    path = suite_file(tmp_path, evaluations=5, seeds=[0])
    path.write_text(path.read_text().replace('name = "local-search"', 'name = "test-local-only"'))
    store = Store(tmp_path / "s.sqlite")
    from tnasbench.errors import TnasbenchError

    with pytest.raises(TnasbenchError, match="'test-local-only' .* registered inside a function.*--jobs 1"):
        run_suite(load_suite(path), store, jobs=2, show_progress=False)
    assert store.trials().empty  # refused before anything was claimed
    assert run_suite(load_suite(path), store, jobs=1, show_progress=False)["done"] == 4


def test_a_seconds_budget_stops_on_training_time(tmp_path):
    path = suite_file(tmp_path)
    path.write_text(path.read_text().replace("evaluations = 30", "seconds = 20000"))
    store = Store(tmp_path / "s.sqlite")
    run_suite(load_suite(path), store, show_progress=False)
    for _, trial in store.observations().groupby("trial"):
        spent = trial["cost_seconds"].cumsum()
        assert spent.iloc[-1] >= 20000 and spent.iloc[-2] < 20000


@register
class Exploding(Searcher):
    name = "test-exploding"

    def setup(self, space, context, seed):
        self.space, self.asked = space, 0

    def ask(self):
        self.asked += 1
        if self.asked > 3:
            raise RuntimeError("boom")
        return self.space.arch(self.asked)

    def tell(self, arch, result: Result):
        pass


@register
class Invalid(Searcher):
    name = "test-invalid"

    def setup(self, space, context, seed):
        pass

    def ask(self):
        return (0, 1, 2, 3, 4, 0)

    def tell(self, arch, result):
        pass


def test_faulty_searchers_fail_their_trial_and_the_suite_goes_on(tmp_path):
    extra = '[[searchers]]\nname = "test-exploding"\n[[searchers]]\nname = "test-invalid"\n'
    store = Store(tmp_path / "s.sqlite")
    counts = run_suite(load_suite(suite_file(tmp_path, extra=extra)), store, show_progress=False)
    assert counts == {"skipped": 0, "done": 12, "failed": 12, "elsewhere": 0}
    trials = store.trials().set_index("label")
    assert trials.loc["test-exploding", "error"].str.contains("RuntimeError: boom").all()
    assert trials.loc["test-invalid", "error"].str.contains("not a cell of the nb201 space").all()
    assert store.observations("failed").empty is False  # what ran before the fault is kept for diagnosis
    # failed trials are retried on the next run, done ones are not
    assert run_suite(load_suite(suite_file(tmp_path, extra=extra)), store, show_progress=False)["skipped"] == 12


class Misbehaving(Searcher):
    """Asks three cells, then does what ``fault`` says on the fourth ask."""

    name = "test-misbehaving"

    def setup(self, space, context, seed):
        self.space, self.asked = space, 0

    def ask(self):
        self.asked += 1
        if self.asked > 3:
            self.fault()
        return self.space.arch(self.asked)

    def tell(self, arch, result):
        pass


@register
class Sleeping(Misbehaving):
    name = "test-sleeping"

    def fault(self):
        time.sleep(3600)


@register
class Spinning(Misbehaving):
    name = "test-spinning"

    def fault(self):
        while True:
            pass


@register
class Exiting(Misbehaving):
    name = "test-exiting"

    def fault(self):
        sys.exit(3)


@register
class Interrupting(Misbehaving):
    name = "test-interrupting"

    def fault(self):
        raise KeyboardInterrupt


def _suite_of(tmp_path, *searchers, timeout=None):
    text = 'name = "faults"\ndatasets = ["cifar10"]\nseeds = [0]\nbudgets = [{evaluations = 10}]\n'
    text += f"trial_timeout = {timeout}\n" if timeout else ""
    text += "".join(f'[[searchers]]\nname = "{name}"\n' for name in searchers)
    (tmp_path / "faults.toml").write_text(text)
    return load_suite(tmp_path / "faults.toml")


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "jobs, timeout, searchers",
    [
        (1, 3, ("random-search", "test-sleeping", "test-spinning")),  # tables already loaded by the first
        (2, 15, ("random-search", "test-sleeping")),  # a fresh worker takes seconds to load the tables
    ],
)
def test_a_hung_searcher_fails_its_trial_at_the_timeout_and_the_suite_goes_on(tmp_path, jobs, timeout, searchers):
    store = Store(tmp_path / "s.sqlite")
    counts = run_suite(_suite_of(tmp_path, *searchers, timeout=timeout), store, jobs=jobs, show_progress=False)
    assert counts == {"skipped": 0, "done": 1, "failed": len(searchers) - 1, "elsewhere": 0}
    trials = store.trials().set_index("label")
    for label in searchers[1:]:
        assert f"timed out: ran past its limit of {timeout} s" in trials.loc[label, "error"]
    assert (store.observations("failed").groupby("searcher").size() == 3).all()  # kept for diagnosis


def test_the_trial_timeout_option_overrides_the_suite(tmp_path):
    suite = _suite_of(tmp_path, "test-sleeping")
    store = Store(tmp_path / "s.sqlite")
    assert run_suite(suite, store, show_progress=False, trial_timeout=1)["failed"] == 1
    assert "limit of 1 s" in store.trials()["error"].iloc[0]


def test_a_searchers_system_exit_or_keyboard_interrupt_fails_its_trial_not_the_runner(tmp_path):
    suite = _suite_of(tmp_path, "test-exiting", "test-interrupting", "random-search")
    store = Store(tmp_path / "s.sqlite")
    assert run_suite(suite, store, show_progress=False) == {"skipped": 0, "done": 1, "failed": 2, "elsewhere": 0}
    errors = store.trials().set_index("label")["error"]
    assert errors["test-exiting"].startswith("SystemExit: 3") and errors["test-interrupting"].startswith(
        "KeyboardInterrupt"
    )


def test_a_users_ctrl_c_still_stops_the_runner(tmp_path):
    suite = _suite_of(tmp_path, "test-sleeping")
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, Store(tmp_path / "s.sqlite"), show_progress=False)
    timer.join()


def test_store_from_a_newer_schema_is_refused(tmp_path):
    Store(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    from tnasbench.errors import TnasbenchError

    with pytest.raises(TnasbenchError, match="schema 99.*upgrade tnasbench"):
        Store(tmp_path / "s.sqlite")


def test_kill_minus_nine_then_resume_matches_an_uninterrupted_run(tmp_path):
    path = suite_file(tmp_path, evaluations=100, seeds=range(40))
    store_path = tmp_path / "killed.sqlite"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "tnasbench.cli", "run", str(path), "--store", str(store_path), "--quiet"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and process.poll() is None:
        if store_path.exists():
            try:
                with sqlite3.connect(store_path, timeout=1) as db:
                    done = db.execute("SELECT COUNT(*) FROM trials WHERE status='done'").fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
            if done >= 20:
                break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    statuses = Store(store_path).statuses()
    assert 20 <= sum(s == "done" for s in statuses.values()) < 160, "the run must be killed mid-suite"
    done_before = {k for k, s in statuses.items() if s == "done"}
    rows_before = observations(store_path)
    rows_before = rows_before[rows_before["trial"].isin(done_before)]

    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    resumed = observations(store_path)
    assert not resumed.duplicated(["trial", "step"]).any()
    pd.testing.assert_frame_equal(
        resumed[resumed["trial"].isin(done_before)].reset_index(drop=True), rows_before.reset_index(drop=True)
    )  # kept, untouched
    run_suite(load_suite(path), Store(tmp_path / "clean.sqlite"), show_progress=False)
    pd.testing.assert_frame_equal(resumed, observations(tmp_path / "clean.sqlite"))


def children(pid: int) -> set[int]:
    """Live child processes of ``pid``, read from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def marked(mark: str) -> set[int]:
    """Live processes whose environment holds ``mark``: a runner's descendants, even once orphaned."""
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if mark.encode() in (proc / "environ").read_bytes():
                if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.add(int(proc.name))
        except OSError:
            continue
    return found


def pool_process(pid: int) -> bool:
    """Whether ``pid`` is a multiprocessing process (a spawned worker or the resource tracker), not, say, git."""
    try:
        return b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def torch_loaded(pid: int) -> bool:
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("moment", ["as the pool starts", "inside trials"])
def test_pool_workers_die_with_a_killed_runner(tmp_path, moment):
    suite = 'name = "orphans"\ndatasets = ["cifar10"]\nseeds = [0, 1]\nbudgets = [{evaluations = 100}]\n'
    (tmp_path / "suite.toml").write_text(suite + '[[searchers]]\nname = "botorch-ei"\n')  # minutes per trial
    workers = min(2, os.cpu_count() or 1)  # --jobs is capped at the CPUs
    command = [sys.executable, "-m", "tnasbench.cli", "run", str(tmp_path / "suite.toml"), "--quiet"]
    command += ["--jobs", str(workers)]
    command += ["--store", str(tmp_path / "s.sqlite")]
    probe = uuid.uuid4().hex
    mark = f"TNASBENCH_ORPHAN_PROBE={probe}"
    env = dict(os.environ, OMP_NUM_THREADS="1", TNASBENCH_ORPHAN_PROBE=probe)
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    if moment == "as the pool starts":  # its first process (resource tracker or worker), before any set-up
        ready = lambda: any(pool_process(pid) for pid in children(process.pid))  # noqa: E731
    else:  # workers that have imported torch (are set up, or running a trial)
        ready = lambda: sum(torch_loaded(pid) for pid in children(process.pid)) >= workers  # noqa: E731
    deadline = time.time() + 300  # generous: only a slow machine gets near it, and a fast one does not wait
    try:
        while not (seen := ready()) and process.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        assert seen and process.poll() is None, "the runner must be killed while its pool lives"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.time() + 120
    while (alive := marked(mark)) and time.time() < deadline:
        time.sleep(0.2)
    assert not alive, f"orphaned processes of the killed runner: {alive}"


def test_a_live_suite_trains_cells_end_to_end(tmp_path):
    text = """
name = "live-test"
benchmark = "nb201-live"
datasets = ["digits"]
objective = "val"
report = "test"
seeds = [0]
budgets = [{evaluations = 3}]
[live]
epochs = 1
channels = 4
[[searchers]]
name = "random-search"
"""
    path = tmp_path / "live.toml"
    path.write_text(text)
    store = Store(tmp_path / "live.sqlite")
    assert run_suite(load_suite(path), store, show_progress=False)["done"] == 1
    obs = store.observations()
    assert len(obs) == 3 and (obs["cost_seconds"] > 0).all() and (obs["epochs"] == 1).all()
    # the optimum of a live benchmark is unknown: regret is measured from 100% (the incumbent's test error)
    incumbent = obs["objective"].cummax()
    first_best = obs["objective"].eq(incumbent) & ~incumbent.duplicated()
    expected = 100 - obs["reported"].where(first_best).ffill()
    assert (obs["regret"] - expected).abs().max() < 1e-9
    assert obs["objective"].iloc[0] > 10  # trained above chance on the validation split


def test_schema_1_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            "CREATE TABLE trials (key TEXT PRIMARY KEY, suite TEXT, benchmark TEXT, dataset TEXT, objective TEXT,"
            " report TEXT, noise TEXT, searcher TEXT, label TEXT, params TEXT, budget_evaluations INTEGER,"
            " budget_seconds REAL, seed INTEGER, searcher_seed INTEGER, benchmark_seed INTEGER, optimum REAL,"
            " status TEXT NOT NULL, error TEXT, spec TEXT NOT NULL, provenance TEXT, started REAL, finished REAL);"
        )
    store = Store(path)
    assert {"searcher_info", "owner", "lease_until"} <= set(store.trials().columns)
    assert store.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "4"
    assert "cell" in {row[1] for row in store.db.execute("PRAGMA table_info(observations)")}


def test_a_trial_runs_single_threaded_whatever_the_callers_torch_threads():
    import torch

    from tnasbench.runner import run_trial
    from tnasbench.testing import conformance_spec

    spec = conformance_spec("tnas", {"arch_hidden": 32, "head": [32, 16], "meta_steps": 40, "batch": 128}, 0, 12)
    one = [o.arch for o in run_trial(spec).observations]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = []
        original = torch.nn.Module.__call__

        def spy(self, *args, **kwargs):
            seen.append(torch.get_num_threads())
            return original(self, *args, **kwargs)

        torch.nn.Module.__call__ = spy
        try:
            two = [o.arch for o in run_trial(spec).observations]
        finally:
            torch.nn.Module.__call__ = original
        assert set(seen) == {1} and torch.get_num_threads() == 2  # pinned inside the trial, restored after
    finally:
        torch.set_num_threads(before)
    assert two == one
