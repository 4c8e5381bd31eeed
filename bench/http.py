"""Requests per second over real HTTP: the production server under `wrk`, against a bare view.

    .venv/bin/python -m bench.http                 # SQLite (bench/.data/bench-10k.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mybella_bench .venv/bin/python -m bench.http
    .venv/bin/python -m bench.http --seconds 30    # longer runs, steadier figures
    .venv/bin/python -m bench.http --rounds 5      # more rounds, steadier medians

The 10k database of `bench.run` is seeded (or reused); one seeded user gets an API token and a
web session. SERVER (bench.served: what the README recommends for production) then serves it
with `BENCH_BARE_VIEW` on, and Debian's `wrk` loads one endpoint at a time with CONNECTIONS
connections: the hot API reads, sending a message (offline engine) and the two HTML pages,
each after an untimed warm-up burst (`--warmup`), each with the bare DRF view (six small
objects, the same authentication) run right before and right after it. On a small shared
machine the bare view's own rate drifts within a run (476 req/s at the start of one quiet run,
295 at its end), so each endpoint is judged against the mean of the two bare runs around it,
and every bare run is printed in order, their spread being the noise left in the ratios.
`--rounds N` repeats the whole sequence (default ROUNDS) and prints each endpoint's medians
and its ratio's range. A page is judged against the API call that reads the same data, as
the ratio of their two ratios (each to its own bare runs). Messages a send run added are
deleted again right after it (so every endpoint meets the seeded history, SQLite's full-text
index merged, PostgreSQL's dead rows vacuumed) and at the end. The default (5 s runs, 2
rounds) takes about 4 minutes.
A benchmark is not a test: the exit status is 0 whatever the figures.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.run import (
    BASE_DIR,
    DATA_DIR,
    _ensure_postgres_database,
    _is_postgres,
    _redacted,
    child_env,
    database_url,
)
from bench.served import SERVER, free_port

WRK = "wrk"
CONNECTIONS = 8
THREADS = 2
SCALE = "10k"
HOT_READ_TARGET = 0.5
SEND_TARGET = 0.25
PAGE_TARGET = 2.0
ROUNDS = 2
# Throttles must count in a cache the server's processes share (core.E001 otherwise).
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/9"


@dataclass(frozen=True)
class Endpoint:
    """One loaded URL: how it is named, requested and judged."""

    key: str
    label: str
    method: str
    path: str
    expected: int
    kind: str  # "ceiling", "read", "send" or "page"
    body: str = ""
    same_data_as: str = ""  # a page: the API endpoint that reads the same data
    # Each request names a parameter of its own (`fresh=`), so no cached read answers it: what
    # a search the user never asked before costs (the view ignores the parameter).
    uncached: bool = False


def endpoints(fixture: dict) -> list[Endpoint]:
    """Return the measured endpoints for the seeded user of `fixture`, in table order."""
    persona, conversation = fixture["persona_id"], fixture["conversation_id"]
    send = json.dumps({"message": "How was your day?", "conversation": conversation})
    return [
        Endpoint("bare", "bare DRF view (ceiling)", "GET", "/api/v1/bench/bare/", 200, "ceiling"),
        Endpoint("personas", "GET personas/", "GET", "/api/v1/personas/", 200, "read"),
        Endpoint(
            "current", "GET personas/current/", "GET", "/api/v1/personas/current/", 200, "read"
        ),
        Endpoint(
            "history",
            "GET conversations/{id}/messages/",
            "GET",
            f"/api/v1/conversations/{conversation}/messages/",
            200,
            "read",
        ),
        Endpoint(
            "conversations",
            "GET personas/{id}/conversations/",
            "GET",
            f"/api/v1/personas/{persona}/conversations/",
            200,
            "read",
        ),
        Endpoint(
            "search",
            "GET personas/{id}/memories/search/",
            "GET",
            f"/api/v1/personas/{persona}/memories/search/?q={fixture['query']}&k=5",
            200,
            "read",
        ),
        Endpoint(
            "search_new",
            "  the same, never asked before",
            "GET",
            f"/api/v1/personas/{persona}/memories/search/?q={fixture['query']}&k=5",
            200,
            "read",
            uncached=True,
        ),
        Endpoint(
            "send", "POST chat/messages/", "POST", "/api/v1/chat/messages/", 201, "send", send
        ),
        Endpoint(
            "page_personas",
            "page /users/personas/",
            "GET",
            "/users/personas/",
            200,
            "page",
            same_data_as="personas",
        ),
        Endpoint(
            "page_chat",
            "page /chat/",
            "GET",
            f"/chat/?conversation={conversation}",
            200,
            "page",
            same_data_as="history",
        ),
    ]


# The parent: prepare, serve, load, report. -------------------------------------------------


def _run_child(env: dict[str, str], *args: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    command = [sys.executable, "-m", "bench.http", "--child", *args, "--out", str(out_path)]
    try:
        subprocess.run(command, cwd=BASE_DIR, env=env, check=True)  # noqa: S603
        return json.loads(out_path.read_text())
    finally:
        out_path.unlink(missing_ok=True)


def _headers(endpoint: Endpoint, fixture: dict) -> dict[str, str]:
    if endpoint.kind == "page":
        return {"Cookie": f"{fixture['session_cookie']}={fixture['session_key']}"}
    headers = {"Authorization": f"Token {fixture['token']}"}
    if endpoint.body:
        headers["Content-Type"] = "application/json"
    return headers


def _lua(endpoint: Endpoint, fixture: dict) -> str:
    lines = [f"wrk.method = {json.dumps(endpoint.method)}"]
    lines += [
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}"
        for k, v in _headers(endpoint, fixture).items()
    ]
    if endpoint.body:
        lines.append(f"wrk.body = {json.dumps(endpoint.body)}")
    if endpoint.uncached:
        # Each wrk thread has a Lua state of its own: setup() numbers them; the run's own
        # tag keeps every run's (and round's) requests apart from the cached ones of others.
        lines.append(
            f"""local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local sent = 0
request = function()
  sent = sent + 1
  return wrk.format(nil, wrk.path .. "&fresh={time.time_ns()}-" .. id .. "-" .. sent)
end"""
        )
    lines.append(
        """done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\\"requests\\": %d, \\"duration_us\\": %d, \\"errors\\": %d, \\"bad_status\\": %d, "
    .. "\\"p50\\": %d, \\"p95\\": %d, \\"p99\\": %d}\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end"""
    )
    return "\n".join(lines) + "\n"


def _check(base: str, endpoint: Endpoint, fixture: dict) -> None:
    """Fail clearly unless one request answers the expected status."""
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        base + endpoint.path,
        data=endpoint.body.encode() or None,
        headers=_headers(endpoint, fixture),
        method=endpoint.method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, content = response.status, b""
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    if status != endpoint.expected:
        raise SystemExit(f"bench: {endpoint.key} answered {status}: {content[:300]!r}")


def _wrk(base: str, endpoint: Endpoint, fixture: dict, seconds: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(endpoint, fixture))
    try:
        completed = subprocess.run(  # noqa: S603
            [
                WRK,
                f"-t{THREADS}",
                f"-c{CONNECTIONS}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base + endpoint.path,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(x for x in completed.stdout.splitlines() if x.startswith("BENCH "))
    stats = json.loads(line.removeprefix("BENCH "))
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    return stats


def _wait_for(base: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"bench: the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("bench: the server did not answer within a minute")


def schedule(measured: list[Endpoint], rounds: int) -> list[tuple[int, Endpoint]]:
    """Return the runs, each with its round: the bare view first and after every endpoint.

    Every endpoint is bracketed by two bare runs, so it is judged against the ceiling of its
    own stretch of the run, not against the run's start and end; a round starts with the
    bare run that ended the round before.
    """
    bare, *others = measured
    runs = [(0, bare)]
    for round_no in range(rounds):
        for endpoint in others:
            runs += [(round_no, endpoint), (round_no, bare)]
    return runs


def measure(url: str, *, seconds: float, warmup: float, rounds: int, fresh: bool) -> dict:
    """Seed or reuse the database at `url`, serve it, load the endpoints `rounds` times.

    Return every run in the order they ran (its endpoint, round and wrk figures), for
    `analyse`.
    """
    if _is_postgres(url):
        _ensure_postgres_database(url)
    env = {
        **child_env(url),
        "BENCH_BARE_VIEW": "true",
        "CACHE_URL": os.environ.get("CACHE_URL") or DEFAULT_CACHE_URL,
        # WhiteNoise warns that `collectstatic` never ran; the pages' static files aren't loaded.
        "PYTHONWARNINGS": "ignore:No directory at",
    }
    fixture = _run_child(env, "prepare", *(["--fresh"] if fresh else []))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*SERVER, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=BASE_DIR, env=env)  # noqa: S603
    runs: list[dict] = []
    restored = 0
    try:
        _wait_for(base, server)
        measured = endpoints(fixture)
        for endpoint in measured:  # every answer right before minutes of load
            _check(base, endpoint, fixture)
        for round_no, endpoint in schedule(measured, rounds):
            print(
                f"bench http: round {round_no + 1}/{rounds}, {endpoint.key}",
                file=sys.stderr,
                flush=True,
            )
            # Each endpoint's caches and first compilations are warmed before it is timed;
            # the bare view has none once it has run.
            if warmup and (endpoint.kind != "ceiling" or not runs):
                _wrk(base, endpoint, fixture, warmup)
            stats = _wrk(base, endpoint, fixture, seconds)
            runs.append({"key": endpoint.key, "round": round_no, **stats})
            if endpoint.kind == "send":
                # Every endpoint meets the seeded history, not one a send run grew by a few
                # hundred messages (and, on SQLite, split the full-text index for).
                tidied = _run_child(env, "tidy", "--limit", str(fixture["max_message_id"]))
                restored += tidied["restored"]
    finally:
        server.terminate()
        server.wait(timeout=30)
        last = _run_child(env, "restore", "--limit", str(fixture["max_message_id"]))
    return {
        "runs": runs,
        "rounds": rounds,
        "database": fixture["database"],
        "restored": restored + last["restored"],
    }


def analyse(runs: list[dict], rounds: int) -> dict:
    """Judge each endpoint run against the mean of the bare runs on either side of it.

    `runs` are `measure`'s, in the order they ran. Return per endpoint the median over the
    rounds of its req/s, latencies and ratio (with the ratios' range), each page's median
    slowdown against its API data (both taken as ratios to their own bare runs, so the bare
    view's drift between them cancels), and the bare runs' req/s in the order they ran (with
    their medians as the bare view's row).
    """
    by_key = {e.key: e for e in endpoints({"persona_id": 0, "conversation_id": 0, "query": ""})}
    per_round: list[dict[str, dict]] = [{} for _ in range(rounds)]
    bare: list[dict] = []
    for index, run in enumerate(runs):
        if by_key[run["key"]].kind == "ceiling":
            bare.append(run)
            continue
        around = [
            runs[i]["rps"]
            for i in (index - 1, index + 1)
            if 0 <= i < len(runs) and by_key[runs[i]["key"]].kind == "ceiling"
        ]
        ceiling = statistics.fmean(around)
        per_round[run["round"]][run["key"]] = {
            **run,
            "ceiling": ceiling,
            "ratio": run["rps"] / ceiling,
        }
    for judged in per_round:
        for key, run in judged.items():
            api = by_key[key].same_data_as
            if api:
                run["slower"] = judged[api]["ratio"] / run["ratio"]

    def medians(of: list[dict], names: tuple[str, ...]) -> dict:
        return {name: statistics.median(run[name] for run in of) for name in names if name in of[0]}

    latencies = ("rps", "p50", "p95", "p99")
    figures: dict[str, dict] = {
        "bare": {
            **medians(bare, latencies),
            "errors": sum(run["errors"] + run["bad_status"] for run in bare),
        }
    }
    for key in per_round[0]:
        of_key = [judged[key] for judged in per_round]
        figures[key] = {
            **medians(of_key, (*latencies, "ceiling", "ratio", "slower")),
            "ratios": [run["ratio"] for run in of_key],
            "errors": sum(run["errors"] + run["bad_status"] for run in of_key),
        }
    return {"endpoints": figures, "bare_rps": [run["rps"] for run in bare]}


def report(figures: dict, *, seconds: float, label: str) -> str:
    """Return the table of one database's figures (from `measure`)."""
    rounds = figures["rounds"]
    analysed = analyse(figures["runs"], rounds)
    by_key = {e.key: e for e in endpoints({"persona_id": 0, "conversation_id": 0, "query": ""})}
    spread = "range" if rounds > 1 else ""
    lines = [
        "",
        f"{label}: {figures['database']}",
        f"{'endpoint':<36} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'bare':>6} "
        f"{'vs bare':>8}{spread:>14}  target",
    ]
    lines.append("-" * len(lines[-1]))
    for key, stats in analysed["endpoints"].items():
        endpoint = by_key[key]
        if endpoint.kind == "ceiling":
            lines.append(
                f"{endpoint.label:<36} {stats['rps']:>8.0f} {stats['p50'] / 1000:>7.1f} "
                f"{stats['p95'] / 1000:>7.1f} {stats['p99'] / 1000:>7.1f}"
                + (f"  ({stats['errors']} errors)" if stats["errors"] else "")
            )
            continue
        ratio = stats["ratio"]
        target = ""
        if endpoint.kind == "read":
            target = _verdict(ratio >= HOT_READ_TARGET, f">= {HOT_READ_TARGET}x")
        elif endpoint.kind == "send":
            target = _verdict(ratio >= SEND_TARGET, f">= {SEND_TARGET}x")
        elif endpoint.kind == "page":
            slower = stats["slower"]
            target = _verdict(
                slower <= PAGE_TARGET,
                f"{slower:.2f}x slower than {endpoint.same_data_as} (<= {PAGE_TARGET}x)",
            )
        ratios = f"{min(stats['ratios']):.2f}-{max(stats['ratios']):.2f}x" if rounds > 1 else ""
        lines.append(
            f"{endpoint.label:<36} {stats['rps']:>8.0f} {stats['p50'] / 1000:>7.1f} "
            f"{stats['p95'] / 1000:>7.1f} {stats['p99'] / 1000:>7.1f} {stats['ceiling']:>6.0f} "
            f"{ratio:>7.2f}x{ratios:>14}  {target}"
            + (f"  ({stats['errors']} errors)" if stats["errors"] else "")
        )
    bare = analysed["bare_rps"]
    lines += [
        f"Latencies in ms; {seconds:g} s per run, {CONNECTIONS} connections, {THREADS} wrk "
        f"threads, {rounds} round{'s' if rounds > 1 else ''}"
        + (
            " (figures: medians over the rounds; ranges: each ratio's least and most)"
            if rounds > 1
            else ""
        )
        + ".",
        "bare: the bare DRF view's req/s around the endpoint (the mean of the run just before "
        "and just after it);",
        "vs bare: the endpoint's req/s over that; a page's slowdown: its API data's vs bare "
        "over its own.",
        f"The bare view, {len(bare)} runs in order (req/s): {' '.join(f'{r:.0f}' for r in bare)}",
        f"  least {min(bare):.0f}, median {statistics.median(bare):.0f}, most {max(bare):.0f}: "
        f"{max(bare) / min(bare):.2f}x between them: the error one ceiling for the whole run "
        "could carry.",
        f"Messages the run added (deleted again): {figures['restored']}.",
    ]
    return "\n".join(lines)


def _verdict(passed: bool, what: str) -> str:
    return ("PASS " if passed else "MISS ") + what


def main(argv: list[str] | None = None) -> int:
    """Measure requests/s over HTTP on the bench database and print the table; return 0."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=5, help="load per endpoint")
    parser.add_argument("--warmup", type=float, default=1, help="untimed load before each")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="the whole sequence again; medians printed"
    )
    parser.add_argument("--fresh", action="store_true", help="reseed (also: FRESH=1)")
    parser.add_argument("--child", choices=["prepare", "tidy", "restore"], help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    fresh = args.fresh or os.environ.get("FRESH", "").strip().lower() in {"1", "true", "yes"}
    if args.child:
        return child(args.child, out=Path(args.out), fresh=fresh, limit=args.limit)
    if shutil.which(WRK) is None:
        print("bench http: skipped, `wrk` is not installed (apt-get install wrk)")
        return 0
    DATA_DIR.mkdir(exist_ok=True)
    (DATA_DIR / ".gitignore").write_text("*\n")
    url = database_url(SCALE, os.environ.get("DATABASE_URL", "").strip())
    print(f"bench http: {_redacted(url)}", file=sys.stderr, flush=True)
    load_before = os.getloadavg()[0]
    figures = measure(
        url, seconds=args.seconds, warmup=args.warmup, rounds=max(1, args.rounds), fresh=fresh
    )
    print("\nMyBella over HTTP: " + " ".join(SERVER[1:]) + f", wrk -c{CONNECTIONS}, loopback.")
    print(report(figures, seconds=args.seconds, label="Database"))
    print(
        f"Load average (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f}, "
        f"on {os.cpu_count()} cores (wrk and the server share them)."
    )
    return 0


# The children: inside Django, on the bench database. ---------------------------------------


def _session_key(user: object) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def child(what: str, *, out: Path, fresh: bool, limit: int) -> int:
    """Prepare the bench user (token, session, ids) or delete the messages the run added."""
    import warnings

    import django

    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    from bench.corpus import search_query
    from bench.run import _describe_database
    from bench.seed import SCALES, ensure_seeded, max_message_id, restore

    if what in ("tidy", "restore"):
        # Tidy, between runs, keeps the bench user's web session (the pages are still to come).
        restored = restore(limit, sessions=what == "restore")
        out.write_text(json.dumps({"restored": restored}))
        return 0

    from django.conf import settings

    from chat.models import Conversation
    from mybella.users.models import ApiToken
    from mybella.users.services import api_token_create
    from personas.services import persona_select

    ensure_seeded(SCALES[SCALE], fresh=fresh)
    conversation = Conversation.objects.select_related("user", "persona").order_by("-id").first()
    user = conversation.user
    persona_select(user=user, persona=conversation.persona)
    ApiToken.objects.filter(user=user, name="bench").delete()
    _, key = api_token_create(user=user, name="bench")
    fixture = {
        "token": key,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "session_key": _session_key(user),
        "persona_id": conversation.persona_id,
        "conversation_id": conversation.pk,
        "query": "+".join(search_query(random.Random(1)).split()),
        "max_message_id": max_message_id(),
        "database": _describe_database(),
    }
    out.write_text(json.dumps(fixture))
    return 0


if __name__ == "__main__":
    sys.exit(main())
