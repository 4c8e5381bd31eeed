"""Time API requests through Django's whole request stack, in process, as a logged-in user.

Each request goes through `rest_framework.test.APIClient` (middleware, session auth, URL
routing, the view, serialization), timed with `time.perf_counter_ns` around the client call:
server-side latency without a network or a WSGI server in front. Query counts come from a
separate, untimed pass under `CaptureQueriesContext`, so recording SQL never skews the timings.

Run inside a configured Django process (see `bench.run`).
"""

import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bench.corpus import Corpus, search_query
from bench.seed import SEED

MEASURE_SEED = SEED + 1
WARMUP = 20
COUNTED = 20


@dataclass(frozen=True)
class Pair:
    """A seeded (user, persona) pair and its conversations, the latest last."""

    user_id: int
    persona_id: int
    conversation_ids: tuple[int, ...]


@dataclass(frozen=True)
class Operation:
    """One kind of request: how it is named and how to make one for a pair."""

    key: str
    label: str
    expected_status: int
    request: Callable[[APIClient, Pair, random.Random], object]


def _send(client: APIClient, pair: Pair, rng: random.Random, corpus: Corpus) -> object:
    return client.post(
        "/api/v1/chat/messages/",
        {"message": corpus.user_message(rng), "conversation": pair.conversation_ids[-1]},
        format="json",
    )


def _history(client: APIClient, pair: Pair, rng: random.Random) -> object:
    return client.get(f"/api/v1/conversations/{rng.choice(pair.conversation_ids)}/messages/")


def _search(client: APIClient, pair: Pair, rng: random.Random) -> object:
    return client.get(
        f"/api/v1/personas/{pair.persona_id}/memories/search/",
        {"q": search_query(rng), "k": 5},
    )


def operations(corpus: Corpus) -> list[Operation]:
    """Return the measured operations, in the order of the printed table."""
    return [
        Operation(
            "send",
            "send message",
            201,
            lambda client, pair, rng: _send(client, pair, rng, corpus),
        ),
        Operation(
            "history",
            "read history",
            200,
            _history,
        ),
        Operation(
            "search",
            "memory search",
            200,
            _search,
        ),
    ]


def _pairs() -> list[Pair]:
    from chat.models import Conversation

    by_pair: dict[tuple[int, int], list[int]] = {}
    rows = Conversation.objects.order_by("updated_at", "id").values_list(
        "user_id", "persona_id", "id"
    )
    for user_id, persona_id, conversation_id in rows.iterator(chunk_size=10_000):
        by_pair.setdefault((user_id, persona_id), []).append(conversation_id)
    return [Pair(u, p, tuple(ids)) for (u, p), ids in sorted(by_pair.items())]


def measure(*, requests: int, round_no: int = 0) -> dict:
    """Time `requests` requests of each operation for random seeded pairs; return raw samples.

    Each round draws its own pairs and texts (seeded by the round number) and warms up
    on its own, so rounds in fresh processes can be pooled.
    """
    from django.conf import settings
    from django_tasks import default_task_backend

    from mybella.users.models import User

    seed = f"{MEASURE_SEED}/{round_no}"
    corpus = Corpus(MEASURE_SEED, user_pool=5_000, assistant_pool=10)
    pairs = _pairs()
    rng = random.Random(seed)
    ops = operations(corpus)
    per_op = WARMUP + COUNTED + requests
    plan = {op.key: [rng.choice(pairs) for _ in range(per_op)] for op in ops}

    # One client, like one server process: each Client has its own handler, whose first
    # request loads the middleware (WhiteNoise then scans every static file), so a client per
    # user would time that start-up instead of the request. Each user logs in once, before
    # any timing, and requests carry that user's session cookie.
    client = APIClient()
    sessions: dict[int, str] = {}
    users = User.objects.in_bulk({pair.user_id for chosen in plan.values() for pair in chosen})
    for user_id, user in users.items():
        login = APIClient()  # a fresh cookie jar: logging in again would end the last session
        login.force_login(user)
        sessions[user_id] = login.cookies[settings.SESSION_COOKIE_NAME].value

    def as_user(user_id: int) -> APIClient:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[user_id]
        return client

    results: dict[str, dict] = {}
    # Reads first: the sends add a few messages to the pairs they pick.
    for op in sorted(ops, key=lambda op: op.expected_status == 201):
        chosen = plan[op.key]
        op_rng = random.Random(f"{seed}/{op.key}")

        def call(pair: Pair, op: Operation = op, op_rng: random.Random = op_rng) -> None:
            response = op.request(as_user(pair.user_id), pair, op_rng)
            if response.status_code != op.expected_status:
                raise SystemExit(
                    f"bench: {op.key} answered {response.status_code}: {response.content[:300]!r}"
                )

        for pair in chosen[:WARMUP]:
            call(pair)
        queries = []
        for pair in chosen[WARMUP : WARMUP + COUNTED]:
            with CaptureQueriesContext(connection) as captured:
                call(pair)
            queries.append(len(captured.captured_queries))
        samples = []
        gc.collect()
        for pair in chosen[WARMUP + COUNTED :]:
            began = time.perf_counter_ns()
            call(pair)
            samples.append((time.perf_counter_ns() - began) / 1e6)
        results[op.key] = {"label": op.label, "samples": samples, "queries": queries}
    return {
        "ops": {op.key: results[op.key] for op in ops},
        "pairs": len(pairs),
        "users_logged_in": len(sessions),
        "tasks_backend": settings.TASKS["default"]["BACKEND"],
        "tasks_enqueued": len(getattr(default_task_backend, "results", [])),
        "warmup": WARMUP,
        "counted": COUNTED,
    }
