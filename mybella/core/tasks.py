"""Keep database tasks moving when workers die: stale RUNNING tasks go back to the queue.

django-tasks-db marks a task RUNNING when a worker claims it and nothing ever looks at it
again: a worker killed mid-task (SIGKILL, out of memory, a lost machine) leaves it RUNNING
for good. Every task here is safe to run twice, so another worker may simply run it again.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus

logger = logging.getLogger(__name__)


class AbandonedTask(Exception):
    """A task whose workers kept dying before it finished."""


def requeue_stale_tasks(*, backend_name: str | None = None) -> int:
    """Put tasks RUNNING for over TASKS_STALE_SECONDS back in the queue; return how many.

    The list of workers that claimed a task stays as its history. A task already claimed
    TASKS_MAX_ATTEMPTS times is FAILED instead, so one that kills every worker running it
    stops doing so.
    """
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(seconds=settings.TASKS_STALE_SECONDS)
    stale = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    if backend_name:
        stale = stale.filter(backend_name=backend_name)
    requeued = 0
    for row in stale.only("id", "started_at", "worker_ids", "task_path"):
        # Only if no other worker re-claimed it meanwhile (a claim sets a new started_at).
        same_claim = DBTaskResult.objects.filter(
            pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at
        )
        attempts = len(row.worker_ids)
        if attempts >= settings.TASKS_MAX_ATTEMPTS:
            failed = same_claim.update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                return_value=None,
                exception_class_path=f"{AbandonedTask.__module__}.{AbandonedTask.__qualname__}",
                traceback=(
                    f"{AbandonedTask.__qualname__}: its worker stopped without finishing it "
                    f"{attempts} attempts in a row."
                ),
            )
            if failed:
                logger.error(
                    "Task id=%s (%s) abandoned after %d attempts.", row.pk, row.task_path, attempts
                )
        elif same_claim.update(status=TaskResultStatus.READY):
            requeued += 1
            logger.warning("Task id=%s (%s) was stale: queued again.", row.pk, row.task_path)
    return requeued


class StaleTaskReaper(threading.Thread):
    """Requeue stale tasks every `every` seconds in a thread of its own, until stopped.

    A worker busy with a long task still rescues the tasks of workers that died.
    """

    def __init__(self, *, every: float | None = None, backend_name: str | None = None) -> None:
        super().__init__(name="stale-task-reaper", daemon=True)
        if every is None:
            every = min(60.0, max(1.0, settings.TASKS_STALE_SECONDS / 4))
        self.every = every
        self.backend_name = backend_name
        self.passes = 0
        self._stopping = threading.Event()
        self._passed = threading.Condition()

    def run(self) -> None:
        try:
            while not self._stopping.wait(self.every):
                try:
                    requeue_stale_tasks(backend_name=self.backend_name)
                except Exception:
                    # A locked or unreachable database now may be fine next time.
                    logger.exception("Could not requeue stale tasks.")
                with self._passed:
                    self.passes += 1
                    self._passed.notify_all()
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop after the pass under way, if any."""
        self._stopping.set()
        self.join()

    def wait_for_passes(self, count: int, timeout: float) -> bool:
        """Wait until `count` passes are done; return whether they are."""
        with self._passed:
            return self._passed.wait_for(lambda: self.passes >= count, timeout)
