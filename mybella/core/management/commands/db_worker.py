"""django-tasks-db's `db_worker`, safe to stop and to kill.

- At start, and every few seconds in a thread, tasks left RUNNING by a dead worker for
  over TASKS_STALE_SECONDS go back to the queue (`mybella.core.tasks`).
- No reloading unless asked for with --reload, even with DEBUG on.
- Told to stop (Ctrl-C, SIGTERM) in the middle of a task, the worker interrupts it and puts
  it back in the queue at once, instead of making the stop wait for it (a chunk of an
  import can take minutes with a slow model, longer than any process manager waits before
  it kills) or marking it failed on a second Ctrl-C. Tasks record their progress and are
  safe to run twice, so the next worker carries on where this one stopped.
"""

import logging
import os
import signal
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.core.management.base import CommandError
from django.db import connections, router
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks import TaskResultStatus
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from mybella.core.tasks import StaleTaskReaper, requeue_stale_tasks

logger = logging.getLogger("django_tasks_db")


class TaskInterrupted(BaseException):
    """Raised inside a running task when the worker is told to stop."""


class Worker(db_worker.Worker):
    """A database worker that gives its task back when stopped and rescues stale ones."""

    task_thread: threading.Thread | None = None

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        # Signals arrive in the main thread. Under --reload tasks run in another thread,
        # which can't be interrupted from here: then the task is finished first, as upstream.
        if self.running_task and threading.current_thread() is self.task_thread:
            if self.running:
                self.running = False
                logger.warning(
                    "Received %s - putting the current task back in the queue.",
                    signal.strsignal(signum),
                )
                raise TaskInterrupted(signum)
            return  # already giving the task back: let that finish, then exit
        super().shutdown(signum, frame)

    def run(self) -> None:
        self.task_thread = threading.current_thread()
        requeue_stale_tasks(backend_name=self.backend_name)
        reaper = StaleTaskReaper(backend_name=self.backend_name)
        reaper.start()
        try:
            super().run()
        finally:
            reaper.stop()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run the task as django-tasks-db 0.13 does, but give it back when interrupted."""
        try:
            self.running_task = True
            task = db_task_result.task
            task_result = db_task_result.task_result
            backend_type = task.get_backend()

            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                return_value = task.call(
                    TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs
                )
            else:
                return_value = task.call(*task_result.args, **task_result.kwargs)
            db_task_result.set_successful(return_value)
            task_finished.send(sender=backend_type, task_result=db_task_result.task_result)
        except TaskInterrupted:
            self.give_back(db_task_result)
        except BaseException as error:
            db_task_result.set_failed(error)
            try:
                sender = type(db_task_result.task.get_backend())
                task_result = db_task_result.task_result
            except (ImportError, SuspiciousOperation):
                logger.exception("Task id=%s failed unexpectedly", db_task_result.id)
            else:
                task_finished.send(sender=sender, task_result=task_result)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def give_back(self, db_task_result: DBTaskResult) -> None:
        """Put an interrupted task back in the queue for the next worker."""
        connection = connections[router.db_for_write(DBTaskResult)]
        if not connection.in_atomic_block:
            # The interrupted query may have left the connection mid-conversation.
            connection.close()
        DBTaskResult.objects.using(connection.alias).filter(
            pk=db_task_result.pk, status=TaskResultStatus.RUNNING
        ).update(status=TaskResultStatus.READY)
        logger.warning("Task id=%s put back in the queue.", db_task_result.id)


class Command(db_worker.Command):
    help = "Run a database background worker that requeues the tasks of dead workers."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        # The reloader kills the process, and its task with it, on every code change and on
        # Ctrl-C (its parent SIGKILLs it): opt in with --reload, even with DEBUG on.
        parser.set_defaults(reload=False)
        for action in parser._actions:
            if action.dest == "reload":
                action.help = (
                    "Restart the worker on code changes, killing the task it is running "
                    "(it runs again after TASKS_STALE_SECONDS). Default: off."
                )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        """Start the worker as django-tasks-db 0.13's command does, with this Worker."""
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("--reload and --batch cannot be specified together. Not reloading.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child that runs tasks
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
