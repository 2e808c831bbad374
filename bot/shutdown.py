"""A scheduled pass interrupted by the process stopping, told apart from a failed one.

The scheduler's shutdown (and ``Reconciler.cancel_running``) cancels a pass wherever it is.
The CancelledError is a BaseException: the jobs' ``except Exception`` lets it through and the
lease guard (bot/jobs/lease.py) ends the pass with one INFO line. But the unwinding may raise
an Exception of its own that replaces it (a rollback on a connection the shutdown is
closing): caught as a failure of the pass, it was logged at ERROR, and it swallowed the
cancellation, so the pass (a digest's loop over its readers) went on while the process
stopped. Those ``except Exception`` blocks call ``raise_if_stopping`` first.
"""

from __future__ import annotations

import asyncio
import logging

from api_client.logsafe import describe


def raise_if_stopping(log: logging.Logger, event: str, exc: Exception) -> None:
    """When the current task is being cancelled: ``event`` at INFO (with ``exc``'s type and
    place only) and the cancellation goes on; otherwise nothing (a real failure)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        log.info("%s error=%s (the process is stopping)", event, describe(exc))
        raise asyncio.CancelledError from exc
