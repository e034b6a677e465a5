"""A trial's wall-clock limit, and a searcher's KeyboardInterrupt told apart from the user's Ctrl-C."""

from __future__ import annotations

import signal
import threading
import time


class TrialTimeout(BaseException):
    """A trial ran past its limit (a BaseException, so a searcher's ``except Exception`` cannot swallow it)."""


class TrialGuard:
    """While a trial runs: its deadline, and whether a KeyboardInterrupt came from the user.

    A hung searcher is stopped by SIGALRM where the trial runs in a process's main thread (``--jobs 1``
    and every pool worker): at the deadline TrialTimeout is raised wherever the searcher is, in a
    ``sleep``, a lock wait or an endless loop (C code that never returns to Python is stopped when it
    does). Dask runs trials in threads, where signals cannot go, so there the deadline is checked
    between evaluations. Either way the trial fails with the reason and the suite goes on.

    In the main thread SIGINT goes through a handler that records it: a KeyboardInterrupt that a
    searcher raises itself fails its trial, the user's Ctrl-C stops the runner.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.user_interrupt = False
        self._signals = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def __enter__(self) -> TrialGuard:
        self._deadline = time.monotonic() + self.seconds
        if self._signals:
            self._alarm = signal.signal(signal.SIGALRM, self._on_alarm)
            self._interrupt = signal.signal(signal.SIGINT, self._on_ctrl_c)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._signals:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._alarm or signal.SIG_DFL)
            signal.signal(signal.SIGINT, self._interrupt or signal.SIG_DFL)

    def check(self) -> None:
        """Raise TrialTimeout once the deadline has passed."""
        if time.monotonic() > self._deadline:
            self._on_alarm()

    def _on_alarm(self, *_: object) -> None:
        raise TrialTimeout(f"timed out: ran past its limit of {self.seconds:g} s (trial_timeout, --trial-timeout)")

    def _on_ctrl_c(self, *_: object) -> None:
        self.user_interrupt = True
        raise KeyboardInterrupt
