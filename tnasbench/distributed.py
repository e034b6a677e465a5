"""Trials on a Dask distributed cluster: the client submits, workers compute, the runner records."""

from __future__ import annotations

from tnasbench.errors import TnasbenchError
from tnasbench.runner import run_trial
from tnasbench.searchers import get_searcher
from tnasbench.searchers.oneshot import OneShotSearcher
from tnasbench.searchers.registry import SearcherClass
from tnasbench.suite import TrialSpec
from tnasbench.workers import worker_init


def needs_gpu(spec: TrialSpec) -> bool:
    """Trials that train networks (one-shot searches, live benchmarks) and so want a GPU worker."""
    from tnasbench.benchmarks.kinds import is_live

    return is_live(spec.benchmark) or issubclass(get_searcher(spec.searcher), OneShotSearcher)


def dask_client(scheduler: str, shipped: dict[str, SearcherClass]):
    """A connected Dask client whose workers have the run-time searchers."""
    try:
        from distributed import Client
    except ImportError:
        raise TnasbenchError("--scheduler needs dask.distributed: pip install -e '.[dask]'") from None
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, ValueError, TypeError) as error:
        raise TnasbenchError(f"cannot reach the Dask scheduler at {scheduler} ({error}): is it running?") from None
    client.run(worker_init, shipped)
    return client


def on_dask(client, pending: list[TrialSpec], timeout: float):
    """Yield (spec, outcome) as a Dask cluster finishes trials; Dask reschedules those of workers that die.

    GPU-needing trials ask for the ``GPU`` resource when some worker offers it (``dask worker
    --resources GPU=1``); on a cluster without one they run wherever there is room.
    """
    from distributed import as_completed as dask_completed

    with client:
        offers_gpu = any("GPU" in w.get("resources", {}) for w in client.scheduler_info()["workers"].values())
        futures = {
            client.submit(
                run_trial,
                spec,
                timeout,
                key=f"trial-{spec.key}",
                pure=False,
                resources={"GPU": 1} if offers_gpu and needs_gpu(spec) else None,
            ): spec
            for spec in pending
        }
        for future in dask_completed(futures):
            yield futures[future], future.result()
