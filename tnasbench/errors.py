"""The one error type the CLI turns into a single line for the user."""

from __future__ import annotations


class TnasbenchError(Exception):
    """A problem the user can fix; the message names the problem and the fix."""
