"""Store claims: two runners on one store never both run a trial; lapsed or orphaned claims are taken over."""

import os
import re
import socket
import subprocess
import sys
import time

import numpy as np

from tnasbench.runner import resolve, run_specs
from tnasbench.searchers import Searcher, register
from tnasbench.store import LEASE_SECONDS, Store, owner_alive, owner_id
from tnasbench.suite import load_suite

SUITE = """
name = "claims-test"
datasets = ["cifar10", "cifar100", "imagenet16-120"]
seeds = [0, 1, 2, 3, 4, 5, 6, 7]
budgets = [{evaluations = 150}]
[[searchers]]
name = "random-search"
[[searchers]]
name = "regularized-evolution"
"""


def _spec(tmp_path):
    (tmp_path / "suite.toml").write_text(SUITE)
    return resolve(load_suite(tmp_path / "suite.toml").trials()[0])


def test_a_live_claim_is_refused_and_a_lapsed_or_orphaned_one_taken_over(tmp_path):
    spec, store = _spec(tmp_path), Store(tmp_path / "s.sqlite")
    assert store.claim_trial(spec, 94.0, {}, "other-host:123")
    assert not store.claim_trial(spec, 94.0, {}, "this-host:1")  # another machine's runner, lease still valid
    with store.db:
        store.db.execute("UPDATE trials SET lease_until=?", (time.time() - 1,))
    assert store.claim_trial(spec, 94.0, {}, "this-host:1")  # its lease lapsed
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()

    with store.db:  # as if a runner on this machine claimed it, then died (kill -9) with its lease valid
        store.db.execute("UPDATE trials SET owner=?", (f"{socket.gethostname()}:{dead.pid}",))
    assert store.claim_trial(spec, 94.0, {}, "this-host:2")  # a dead process on this host holds nothing
    lease = store.db.execute("SELECT lease_until FROM trials").fetchone()[0]
    assert LEASE_SECONDS - 5 < lease - time.time() <= LEASE_SECONDS


def test_status_tells_a_live_claim_from_one_whose_runner_died(tmp_path, capsys):
    from tnasbench.cli import main

    (tmp_path / "suite.toml").write_text(SUITE)
    first, second = (resolve(spec) for spec in load_suite(tmp_path / "suite.toml").trials()[:2])
    store = Store(tmp_path / "s.sqlite")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert store.claim_trial(first, 94.0, {}, "other-host:123")  # live lease on another machine
    assert store.claim_trial(second, 94.0, {}, f"{socket.gethostname()}:{dead.pid}")  # killed runner here
    assert dict(zip(store.progress()["key"], store.progress()["status"], strict=True)) == {
        first.key: "running",
        second.key: "interrupted",
    }
    assert main(["status", str(tmp_path / "s.sqlite")]) == 0
    assert "interrupted: their runner stopped" in capsys.readouterr().out


def test_two_runners_started_at_once_split_the_trials(tmp_path):
    (tmp_path / "suite.toml").write_text(SUITE)
    store_path = tmp_path / "shared.sqlite"
    Store(store_path).close()
    command = [sys.executable, "-m", "tnasbench.cli", "run", str(tmp_path / "suite.toml"), "--store", str(store_path)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    runners = [
        subprocess.Popen([*command, "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs, errors = zip(*(runner.communicate(timeout=300) for runner in runners), strict=True)
    # the first to finish may still see the other's last trials unfinished: it says so and exits 1
    for runner, error in zip(runners, errors, strict=True):
        assert runner.returncode == 0 or (runner.returncode == 1 and "held by another runner" in error), error
    assert 0 in [runner.returncode for runner in runners]
    ran = [int(re.search(r"(\d+) trials run", out)[1]) for out in outputs]
    assert sum(ran) == 48  # every trial ran exactly once between the two
    store = Store(store_path)
    observations = store.observations()
    assert len(observations) == 48 * 150 and not observations.duplicated(["trial", "step"]).any()
    assert set(store.trials()["status"]) == {"done"}
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


LATER_RUNNER: list = []  # (store path, spec) for the searcher below to claim, and what the claim returned


@register
class ClaimsForALaterRunner(Searcher):
    """While its trial runs, claims another trial of the suite as a runner started later would."""

    name = "test-claims-for-a-later-runner"

    def setup(self, space, context, seed):
        self._space, self._rng = space, np.random.default_rng(seed)
        if LATER_RUNNER and isinstance(LATER_RUNNER[0], tuple):
            path, spec = LATER_RUNNER.pop()
            LATER_RUNNER.append(Store(path).claim_trial(spec, 94.0, {}, "other-host:1"))

    def ask(self):
        return self._space.sample(self._rng)

    def tell(self, arch, result):
        pass


def test_a_runner_started_later_shares_the_trials_not_yet_begun(tmp_path):
    (tmp_path / "suite.toml").write_text(
        'name = "later"\ndatasets = ["cifar10"]\nseeds = [0, 1, 2]\nbudgets = [{evaluations = 5}]\n'
        '[[searchers]]\nname = "test-claims-for-a-later-runner"\n'
    )
    specs = [resolve(spec) for spec in load_suite(tmp_path / "suite.toml").trials()]
    LATER_RUNNER.append((tmp_path / "s.sqlite", specs[-1]))
    counts = run_specs("later", specs, Store(tmp_path / "s.sqlite"), show_progress=False)
    assert LATER_RUNNER == [True]  # the last trial was still free while the first one ran
    assert (counts["done"], counts["elsewhere"]) == (2, 1)  # so this runner left it to the other one


def test_a_runner_whose_lapsed_claim_was_taken_over_writes_nothing(tmp_path):
    """Runner A paused past its lease, B took the trial over and finished it: A's late result is dropped."""
    from tnasbench.store import Observation

    spec, store = _spec(tmp_path), Store(tmp_path / "s.sqlite")
    ours = [Observation(1, 5, 200, 90.0, 90.0, 4.0, 1.0, 0.1)]
    theirs = [Observation(1, 7, 200, 91.0, 91.0, 3.0, 1.0, 0.1)]
    assert store.claim_trial(spec, 94.0, {}, "host-a:1")
    with store.db:
        store.db.execute("UPDATE trials SET lease_until=?", (time.time() - 1,))
    assert store.claim_trial(spec, 94.0, {}, "host-b:2")
    assert store.record(spec.key, "host-b:2", theirs, None, {})
    assert not store.record(spec.key, "host-a:1", ours, None, {})  # no IntegrityError, nothing written
    assert store.observations()["arch"].tolist() == [7] and store.statuses() == {spec.key: "done"}


TAKEN_OVER: list = []  # (store path, spec) of the trial the searcher below has taken from its runner


@register
class TakenOver(Searcher):
    """While its trial runs, another runner takes the trial over (as after SIGSTOP past the lease) and finishes it."""

    name = "test-taken-over"

    def setup(self, space, context, seed):
        self._space, self._rng = space, np.random.default_rng(seed)
        path, spec = TAKEN_OVER[0]
        other = Store(path)
        with other.db:
            other.db.execute("UPDATE trials SET lease_until=?", (time.time() - 1,))
        assert other.claim_trial(spec, 94.0, {}, "other-host:7")
        assert other.record(spec.key, "other-host:7", [], None, {"by": "the other runner"})

    def ask(self):
        return self._space.sample(self._rng)

    def tell(self, arch, result):
        pass


def test_a_trial_lost_to_another_runner_counts_as_theirs_and_the_runner_goes_on(tmp_path):
    (tmp_path / "suite.toml").write_text(
        'name = "lost"\ndatasets = ["cifar10"]\nseeds = [0]\nbudgets = [{evaluations = 5}]\n'
        '[[searchers]]\nname = "test-taken-over"\n'
    )
    specs = [resolve(spec) for spec in load_suite(tmp_path / "suite.toml").trials()]
    TAKEN_OVER[:] = [(tmp_path / "s.sqlite", specs[0])]
    store = Store(tmp_path / "s.sqlite")
    assert run_specs("lost", specs, store, show_progress=False) == {
        "skipped": 1,
        "done": 0,
        "failed": 0,
        "elsewhere": 0,
    }
    assert store.trials()["searcher_info"].tolist() == ['{"by": "the other runner"}']


def test_a_dead_runner_whose_pid_was_reused_holds_nothing(tmp_path):
    spec, store = _spec(tmp_path), Store(tmp_path / "s.sqlite")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # a claim by a process with this pid that started at another time: the pid was reused
        assert store.claim_trial(spec, 94.0, {}, f"{socket.gethostname()}:{alive.pid}:1")
        assert store.progress()["status"].tolist() == ["interrupted"]
        assert store.claim_trial(spec, 94.0, {}, "this-host:2")
    finally:
        alive.kill()
    assert owner_alive(owner_id())
