"""Worker processes: set up for trials, and dying with the runner whenever it dies.

Kept free of heavy imports: a pool worker starts watching its parent before it imports torch or
any searcher, so a runner killed while its pool is still starting leaves no worker behind.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)
POLL_SECONDS = 0.5


def watch_parent(parent: int) -> None:
    """Exit this process as soon as ``parent`` (the runner's pid, taken before the pool started) is gone.

    Two mechanisms, neither with a start-up window: on Linux the kernel sends SIGKILL when the parent
    dies (PDEATHSIG), and since a parent that died before that was set is missed by it, the parent id
    is compared with ``parent`` right after, then every half second from a daemon thread (also where
    there is no prctl).
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)

    def poll() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=poll, name="watch-parent", daemon=True).start()


def pool_worker_init(parent: int, searchers: bytes) -> None:
    """A local pool worker: watch the runner first, then unpickle (import) the run-time searchers."""
    watch_parent(parent)
    worker_init(pickle.loads(searchers))


def worker_init(searchers: dict) -> None:
    """Any worker process (pool or Dask): one BLAS thread, and the searchers registered at run time."""
    from tnasbench.searchers.registry import register

    os.environ["OMP_NUM_THREADS"] = "1"
    for cls in searchers.values():
        register(cls)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
