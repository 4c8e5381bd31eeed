"""Memory extraction survives dead workers, never runs twice, and shares the queue fairly.

The worker tests run `manage.py db_worker` for real, as a separate process on a database it
shares with the test: the PostgreSQL test database itself, or on SQLite a file copy of the
in-memory test database that is copied back once the workers are done.
"""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from chat.models import ChatMessage
from chat.services import history_import
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from memory.models import ConversationMemory, MessageExtraction
from memory.tasks import extract_memories
from mybella.core.tasks import StaleTaskReaper, requeue_stale_tasks
from mybella.tests.loopback import LoopbackServer
from personas.models import PersonaProfile
from personas.tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parents[2]
DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
IMPORT_TASK = "memory.tasks.extract_imported_memories"
SEND_TASK = "memory.tasks.extract_memories"


@pytest.fixture
def db_tasks(transactional_db, system_personas, settings):
    """Queue tasks in the database, as production does, instead of running them at once.

    Transactional: the worker loop closes connections it finds inside a transaction.
    """
    settings.TASKS = DB_BACKEND


def run_queue() -> None:
    """Run every queued task in this process, in the order a database worker takes them."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


# Progress ----------------------------------------------------------------------------------


def test_each_message_is_marked_once_and_a_rerun_asks_the_model_nothing(user, luna, fake_llm):
    """Progress is recorded per message: running the task again makes no model call."""
    conversation = ConversationFactory(user=user, persona=luna)
    messages = [
        ChatMessageFactory(conversation=conversation, content=f"I collect stamp number {n}.")
        for n in range(3)
    ]
    ids = [m.id for m in messages]
    fake_llm.reply_text = json.dumps(
        {"operations": [{"op": "add", "content": "Collects old stamps"}]}
    )

    assert extract_memories.call(ids) == 3
    chats = [r for r in fake_llm.requests if r[0] == "/v1/chat/completions"]
    assert len(chats) == 3
    assert set(MessageExtraction.objects.values_list("message_id", flat=True)) == set(ids)

    assert extract_memories.call(ids) == 0
    assert len([r for r in fake_llm.requests if r[0] == "/v1/chat/completions"]) == 3
    # Said three times, remembered once: the repeats confirm the first memory.
    (memory,) = ConversationMemory.objects.filter(user=user)
    assert memory.importance == 5 + 2
    assert sorted(memory.source_messages.values_list("id", flat=True)) == sorted(ids)


def test_a_paused_pair_is_marked_done_without_asking_the_model(user, luna, fake_llm):
    """Messages of a pair that remembers nothing are settled, not retried forever."""
    from memory.services import memory_settings_set

    memory_settings_set(user=user, persona=luna, remember=False)
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=luna), content="I live in Lisbon."
    )
    assert extract_memories.call([message.id]) == 0
    assert MessageExtraction.objects.filter(message=message).exists()
    assert not [r for r in fake_llm.requests if r[0] == "/v1/chat/completions"]
    assert not ConversationMemory.objects.exists()


# Stale tasks -------------------------------------------------------------------------------


def _task_row(status: str, started_minutes_ago: int, workers: int = 1) -> DBTaskResult:
    row = DBTaskResult.objects.create(
        args_kwargs={"args": [[1]], "kwargs": {}},
        task_path=SEND_TASK,
        backend_name="default",
        status=status,
        worker_ids=[f"worker-{n}" for n in range(workers)],
    )
    started = timezone.now() - timedelta(minutes=started_minutes_ago)
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=started)
    return row


def test_running_tasks_older_than_the_timeout_go_back_to_the_queue(db, settings):
    """A task left RUNNING by a dead worker is READY again; its history of workers stays."""
    settings.TASKS_STALE_SECONDS = 600
    stale = _task_row("RUNNING", started_minutes_ago=11)
    fresh = _task_row("RUNNING", started_minutes_ago=1)
    done = _task_row("SUCCESSFUL", started_minutes_ago=60)

    assert requeue_stale_tasks() == 1

    stale.refresh_from_db()
    assert stale.status == "READY"
    assert stale.worker_ids == ["worker-0"]
    assert DBTaskResult.objects.get(pk=fresh.pk).status == "RUNNING"
    assert DBTaskResult.objects.get(pk=done.pk).status == "SUCCESSFUL"
    assert requeue_stale_tasks() == 0


def test_a_task_that_keeps_killing_its_worker_is_failed_not_retried_forever(db, settings):
    """After TASKS_MAX_ATTEMPTS claims a stale task is FAILED, so a poison task stops looping."""
    settings.TASKS_STALE_SECONDS = 600
    settings.TASKS_MAX_ATTEMPTS = 3
    poison = _task_row("RUNNING", started_minutes_ago=30, workers=3)
    again = _task_row("RUNNING", started_minutes_ago=30, workers=2)

    assert requeue_stale_tasks() == 1

    poison.refresh_from_db()
    assert poison.status == "FAILED"
    assert poison.finished_at is not None
    assert "3 attempts" in poison.traceback
    assert DBTaskResult.objects.get(pk=again.pk).status == "READY"


def test_a_running_worker_requeues_stale_tasks_while_it_waits(transactional_db, settings):
    """The reaper thread of a worker that is already running finds tasks that go stale later."""
    settings.TASKS_STALE_SECONDS = 0
    reaper = StaleTaskReaper(every=0.05)
    reaper.start()
    try:
        assert reaper.wait_for_passes(1, timeout=30)
        row = _task_row("RUNNING", started_minutes_ago=1)
        # A pass under way while the row was written may have missed it; the next one can't.
        assert reaper.wait_for_passes(reaper.passes + 2, timeout=30)
    finally:
        reaper.stop()
    assert DBTaskResult.objects.get(pk=row.pk).status == "READY"


# Chunks and fairness -----------------------------------------------------------------------


def _import(user, persona, user_messages: int, tag: str):
    items = []
    for n in range(user_messages):
        items.append(
            {"role": "user", "content": f"My {tag} number {n} is lovely.", "created_at": None}
        )
        items.append({"role": "assistant", "content": "How nice.", "created_at": None})
    return history_import(user=user, persona=persona, items=items)


def _started(task_path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task_path).order_by("started_at"))


def test_a_large_import_is_extracted_in_chunks(db_tasks, user, luna, settings):
    """An import of 5 user messages with chunks of 2 runs as 3 tasks of at most 2 messages."""
    settings.TASKS_CHUNK_SIZE = 2
    conversation = _import(user, luna, 5, "cat")
    assert DBTaskResult.objects.filter(task_path=IMPORT_TASK).count() == 1  # one chunk at a time

    run_queue()

    chunks = _started(IMPORT_TASK)
    assert [c.status for c in chunks] == ["SUCCESSFUL"] * 3
    assert [c.return_value["messages"] for c in chunks] == [2, 2, 1]
    assert all(c.priority < 0 for c in chunks)
    user_messages = ChatMessage.objects.filter(conversation=conversation, role="user")
    assert MessageExtraction.objects.filter(message__in=user_messages).count() == 5


def test_a_message_sent_after_an_import_is_not_kept_waiting_for_all_of_it(
    db_tasks, user, other_user, luna, settings
):
    """Another user's task, queued after a big import, runs before the import's last chunk."""
    settings.TASKS_CHUNK_SIZE = 2
    _import(user, luna, 6, "cat")
    theirs = ChatMessageFactory(
        conversation=ConversationFactory(user=other_user, persona=luna),
        content="I live in Porto.",
    )
    extract_memories.enqueue([theirs.id])

    run_queue()

    chunks = _started(IMPORT_TASK)
    (send,) = _started(SEND_TASK)
    assert len(chunks) == 3
    assert send.started_at < chunks[-1].started_at
    assert ConversationMemory.objects.filter(user=other_user, content="Lives in Porto").exists()


def test_two_imports_take_turns(db_tasks, user, other_user, luna, settings):
    """Chunks of two users' imports interleave instead of one import waiting for the other."""
    settings.TASKS_CHUNK_SIZE = 2
    first = _import(user, luna, 5, "cat")
    second = _import(other_user, luna, 5, "dog")

    run_queue()

    order = [c.args_kwargs["args"][0] for c in _started(IMPORT_TASK)]
    assert order == [first.pk, second.pk] * 3


# Real worker processes ---------------------------------------------------------------------


class _GatedHandler(BaseHTTPRequestHandler):
    """Answer extraction requests with one memory per stamp; hold one request until released."""

    server: "GatedModel"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        text = body["messages"][-1]["content"]
        stamp = int(re.search(r"stamp number (\d+)", text)[1])
        server = self.server
        with server.lock:
            server.asked.append(stamp)
            hold = len(server.asked) == server.hold_at
        if hold:
            server.holding.set()
            server.release.wait(120)
        operations = {"operations": [{"op": "add", "content": f"Collects stamp {stamp}"}]}
        answer = {
            "id": "chatcmpl-gated",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(operations)},
                    "finish_reason": "stop",
                }
            ],
        }
        data = json.dumps(answer).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the worker that asked is gone


class GatedModel(LoopbackServer):
    """An OpenAI-compatible model that stops answering at its `hold_at`-th request."""

    def __init__(self, hold_at: int) -> None:
        super().__init__(_GatedHandler)
        self.hold_at = hold_at
        self.asked: list[int] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.start()


class SharedDatabase:
    """A database that `manage.py` processes can open while this test runs."""

    def __init__(self, tmp_path: Path) -> None:
        settings_dict = connection.settings_dict
        self.sqlite_file = None
        if connection.vendor == "postgresql":
            password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
            self.url = (
                f"postgres://{settings_dict['USER']}{password}@{settings_dict['HOST']}"
                f":{settings_dict['PORT']}/{settings_dict['NAME']}"
            )
        else:
            self.sqlite_file = tmp_path / "shared.sqlite3"
            self.url = f"sqlite:///{self.sqlite_file}"

    def share(self) -> None:
        """Let other processes see what this test wrote (on SQLite: copy it to the file)."""
        if self.sqlite_file:
            connection.ensure_connection()
            target = sqlite3.connect(self.sqlite_file)
            connection.connection.backup(target)
            target.close()

    def take_back(self) -> None:
        """See what other processes wrote (on SQLite: copy the file back)."""
        if self.sqlite_file:
            source = sqlite3.connect(self.sqlite_file)
            source.backup(connection.connection)
            source.close()


@pytest.fixture
def shared_db(transactional_db, system_personas, tmp_path):
    return SharedDatabase(tmp_path)


@pytest.fixture
def gated_model():
    server = GatedModel(hold_at=10)
    yield server
    server.release.set()
    server.stop()


@pytest.fixture
def workers():
    """Worker processes a test started; any still running at the end are killed."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def start_worker(
    workers: list, shared_db: SharedDatabase, model: GatedModel, **env: str
) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": shared_db.url,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": model.url + "/v1",
        "LLM_API_KEY": "test-key",
        "LLM_EMBEDDING_MODEL": "",
        "LLM_TIMEOUT": "300",
        "DEBUG": "false",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "-v", "0"],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    workers.append(process)
    return process


def _finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=120)
    return output.decode(errors="replace")


STAMPS = 30


def _queue_stamps(user) -> tuple[DBTaskResult, list[int]]:
    persona = PersonaProfile.objects.get(slug="luna")
    conversation = ConversationFactory(user=user, persona=persona)
    ids = [
        ChatMessageFactory(conversation=conversation, content=f"I collect stamp number {n}.").id
        for n in range(1, STAMPS + 1)
    ]
    result = extract_memories.enqueue(ids)
    return DBTaskResult.objects.get(pk=result.id), ids


def _assert_each_stamp_remembered_once(user, ids: list[int]) -> None:
    contents = sorted(
        ConversationMemory.objects.filter(user=user).values_list("content", flat=True)
    )
    assert contents == sorted(f"Collects stamp {n}" for n in range(1, STAMPS + 1))
    assert MessageExtraction.objects.filter(message_id__in=ids).count() == STAMPS
    for memory in ConversationMemory.objects.filter(user=user).prefetch_related("source_messages"):
        (source,) = memory.source_messages.all()
        assert memory.content == f"Collects stamp {source.content.split()[-1].rstrip('.')}"


def test_a_killed_workers_task_is_finished_by_the_next_worker_exactly_once(
    shared_db, gated_model, workers, settings
):
    """SIGKILL mid-task: the next worker picks the task up and extracts each message once."""
    settings.TASKS = DB_BACKEND
    user = UserFactory()
    task_row, ids = _queue_stamps(user)
    shared_db.share()

    first = start_worker(workers, shared_db, gated_model)
    assert gated_model.holding.wait(60), "the worker never asked the model"
    first.send_signal(signal.SIGKILL)
    first.wait(60)

    second = start_worker(workers, shared_db, gated_model, TASKS_STALE_SECONDS="0")
    output = _finish(second)
    assert second.returncode == 0, output
    shared_db.take_back()

    task_row.refresh_from_db()
    assert task_row.status == "SUCCESSFUL", task_row.traceback
    assert len(task_row.worker_ids) == 2
    _assert_each_stamp_remembered_once(user, ids)
    # Only the message the dead worker was waiting on was asked about twice.
    assert sorted(gated_model.asked) == sorted([*range(1, STAMPS + 1), 10])


def test_a_stopped_worker_puts_its_task_back_at_once(shared_db, gated_model, workers, settings):
    """SIGTERM mid-task: the task is READY again right away, not failed and not stuck."""
    settings.TASKS = DB_BACKEND
    user = UserFactory()
    task_row, ids = _queue_stamps(user)
    shared_db.share()

    first = start_worker(workers, shared_db, gated_model)
    assert gated_model.holding.wait(60), "the worker never asked the model"
    first.send_signal(signal.SIGTERM)
    output = _finish(first)
    shared_db.take_back()
    task_row.refresh_from_db()
    assert task_row.status == "READY", output
    assert MessageExtraction.objects.filter(message_id__in=ids).count() == 9

    # The default stale timeout is long: the next worker takes the task because it is READY.
    second = start_worker(workers, shared_db, gated_model)
    output = _finish(second)
    assert second.returncode == 0, output
    shared_db.take_back()
    task_row.refresh_from_db()
    assert task_row.status == "SUCCESSFUL"
    _assert_each_stamp_remembered_once(user, ids)


def test_the_worker_does_not_reload_unless_asked(settings):
    """The autoreloader kills the running task on every code change: it is opt-in."""
    from mybella.core.management.commands.db_worker import Command

    settings.DEBUG = True
    settings.TASKS = DB_BACKEND
    parser = Command().create_parser("manage.py", "db_worker")
    assert parser.parse_args([]).reload is False
    assert parser.parse_args(["--reload"]).reload is True
