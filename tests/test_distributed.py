"""Trials on a Dask cluster: a LocalCluster of processes, and real `dask scheduler` / `dask worker`
processes on loopback. Observations must equal a serial run's; the client stays the only writer."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tnasbench.cli import main
from tnasbench.runner import run_suite
from tnasbench.store import Store
from tnasbench.suite import load_suite

distributed = pytest.importorskip("distributed", reason="the dask extra: pip install -e '.[dask]'")

SUITE = """
name = "dask-test"
datasets = ["cifar10", "cifar100"]
seeds = [0, 1, 2]
budgets = [{evaluations = 40}]
[[searchers]]
name = "random-search"
[[searchers]]
name = "regularized-evolution"
"""
DETERMINISTIC = ["trial", "step", "arch", "objective", "reported", "regret", "cost_seconds"]


def _observations(path):
    return Store(path).observations()[DETERMINISTIC].sort_values(["trial", "step"]).reset_index(drop=True)


@pytest.fixture
def suite_path(tmp_path):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE)
    serial = Store(tmp_path / "serial.sqlite")
    run_suite(load_suite(path), serial, show_progress=False)
    serial.close()
    return path


def test_local_cluster_of_processes_matches_the_serial_run(suite_path, tmp_path):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        store = Store(tmp_path / "dask.sqlite")
        counts = run_suite(load_suite(suite_path), store, show_progress=False, scheduler=cluster.scheduler_address)
        store.close()
    assert counts == {"skipped": 0, "done": 12, "failed": 0, "elsewhere": 0}
    serial = _observations(tmp_path / "serial.sqlite")
    assert len(serial) == 12 * 40
    assert _observations(tmp_path / "dask.sqlite").equals(serial)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_scheduler_and_worker_processes_match_the_serial_run(suite_path, tmp_path):
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
        store_path = tmp_path / "cluster.sqlite"
        assert main(["run", str(suite_path), "--store", str(store_path), "--scheduler", address, "--quiet"]) == 0
        assert _observations(store_path).equals(_observations(tmp_path / "serial.sqlite"))
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)


def test_an_unreachable_scheduler_is_one_clear_line(suite_path, tmp_path, capsys):
    start = time.monotonic()
    address = f"tcp://127.0.0.1:{_free_port()}"
    assert main(["run", str(suite_path), "--store", str(tmp_path / "x.sqlite"), "--scheduler", address]) == 2
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    assert time.monotonic() - start < 60


def test_a_worker_killed_mid_suite_has_its_trials_rescheduled(tmp_path):
    import signal
    import threading

    path = tmp_path / "long.toml"
    path.write_text(SUITE.replace("evaluations = 40", "evaluations = 6000").replace('"cifar100"', ""))
    serial = Store(tmp_path / "serial.sqlite")
    run_suite(load_suite(path), serial, show_progress=False)
    serial.close()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        store_path = tmp_path / "dask.sqlite"
        result = {}

        def run():
            store = Store(store_path)
            result["counts"] = run_suite(
                load_suite(path), store, show_progress=False, scheduler=cluster.scheduler_address
            )
            store.close()

        runner = threading.Thread(target=run)
        runner.start()
        with distributed.Client(cluster.scheduler_address) as client:
            deadline = time.monotonic() + 60
            while not any(client.processing().values()) and time.monotonic() < deadline:
                time.sleep(0.05)
            victim = next(address for address, tasks in client.processing().items() if tasks)
            pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)  # a worker dies with a trial in flight
        runner.join(timeout=300)
    assert result["counts"]["done"] == 6 and result["counts"]["failed"] == 0
    assert _observations(store_path).equals(_observations(tmp_path / "serial.sqlite"))
