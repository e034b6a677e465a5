"""A full disk while writing the store: one clear line, non-zero exit, and a sound store that resumes.

The limit is real, not a mock: the runner runs in a subprocess whose maximum file size
(RLIMIT_FSIZE) is a few hundred kilobytes, so SQLite's writes fail as on a full disk.
"""

import os
import resource
import signal
import subprocess
import sys

from tnasbench.store import Store

SUITE = """
name = "full-disk-test"
datasets = ["cifar10", "cifar100", "imagenet16-120"]
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
budgets = [{evaluations = 200}]
[[searchers]]
name = "random-search"
"""
LIMIT = 1_200_000  # bytes: the write-ahead log of a whole run grows to ~2 MB, so some trials fit, not all


def _small_disk():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_a_full_disk_is_one_clear_line_and_the_store_stays_sound(tmp_path):
    (tmp_path / "suite.toml").write_text(SUITE)
    store_path = tmp_path / "s.sqlite"
    command = [sys.executable, "-m", "tnasbench.cli", "run", str(tmp_path / "suite.toml"), "--store", str(store_path)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    full = subprocess.run([*command, "--quiet"], env=env, capture_output=True, text=True, preexec_fn=_small_disk)
    assert full.returncode == 2, full.stderr
    errors = [line for line in full.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "the disk is full or the file too large" in errors[0]
    assert "run the same command again" in errors[0]
    store = Store(store_path)
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    done_before = store.trials().query("status == 'done'")
    assert 0 < len(done_before) < 30
    counts = store.observations().groupby("trial").size()
    assert (counts == 200).all()  # every finished trial is whole
    store.close()
    resumed = subprocess.run([*command, "--quiet"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{30 - len(done_before)} trials run, {len(done_before)} already in" in resumed.stdout
