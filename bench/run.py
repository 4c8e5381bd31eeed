"""`make bench`: seed a 10k- and a 1M-message database and print request latencies side by side.

    make bench                     # SQLite files in bench/.data/, reused when already seeded
    make bench FRESH=1             # reseed them
    make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/mybella_bench
                                   # PostgreSQL: databases mybella_bench_10k and mybella_bench_1m
    .venv/bin/python -m bench.run --scales 10k --requests 50 --rounds 1   # a quick look
    make bench BENCH_ARGS="--shapes one-pair"   # only one pair with a long history (1k, 1M)

Two shapes: many pairs with the same history (here), and one pair whose history grows
(`bench.one_pair`, printed after).

Django reads its settings once, from the environment, so every database gets its own
processes: one to migrate and seed (or reuse) it, then measuring rounds that alternate
between the scales (10k, 1M, then 1M, 10k, …) and are pooled, so a burst of load from
something else on the machine lands on both columns alike. The named database itself is never
touched (the scale is appended to its name) and the development `db.sqlite3` is left alone.
A benchmark is not a test: the exit status is 0 whatever the numbers.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.databases import derived_database_url

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"
P95_TARGET_MS = 30.0
MAX_GROWTH = 1.3
SCALE_ORDER = ("10k", "1m")


# The parent: child processes per scale, then the table. -----------------------------------


def database_url(scale: str, incoming: str) -> str:
    """Return the benchmark database URL for `scale`, derived from `incoming` when given."""
    return derived_database_url(
        incoming, tag=scale, default=DATA_DIR / f"bench-{scale}.sqlite3", tool="bench"
    )


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.startswith(("postgres", "pgsql"))


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def child_env(url: str) -> dict[str, str]:
    """Return the environment of a scale's process: production-like, offline, quiet."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mybella.settings",
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        # Tasks are queued in the database as in production (a send's memory extraction and
        # summaries: rows and a commit of the request's); no worker runs them: a worker's time.
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "LLM_PROVIDER": "offline",
        "LLM_BASE_URL": "",
        "LLM_API_KEY": "",
        "LLM_EMBEDDING_MODEL": "",
        "THROTTLE_CHAT": "1000000/min",
        "THROTTLE_SEARCH": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "PYTHONHASHSEED": "0",
    }


def run_child(module: str, url: str, *args: str) -> dict:
    """Run `python -m module --out FILE *args` on database `url`; return the JSON it wrote."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    command = [sys.executable, "-m", module, "--out", str(out_path), *args]
    try:
        subprocess.run(command, cwd=BASE_DIR, env=child_env(url), check=True)  # noqa: S603
        return json.loads(out_path.read_text())
    finally:
        out_path.unlink(missing_ok=True)


def prepare_database(url: str) -> None:
    """Create the PostgreSQL database `url` names when it does not exist (SQLite: nothing)."""
    if _is_postgres(url):
        _ensure_postgres_database(url)


def _child(scale: str, url: str, *extra: str) -> dict:
    return run_child("bench.run", url, "--child", scale, *extra)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every shape takes: --requests, --rounds, --fresh and the children's."""
    parser.add_argument("--requests", type=int, default=200, help="timed requests per operation")
    parser.add_argument("--rounds", type=int, default=4, help="alternating measuring rounds")
    parser.add_argument("--fresh", action="store_true", help="reseed (also: FRESH=1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)


def fresh_and_rounds(args: argparse.Namespace) -> tuple[bool, int]:
    """Return whether to reseed (--fresh or FRESH=1) and how many rounds to measure in."""
    fresh = args.fresh or os.environ.get("FRESH", "").strip().lower() in {"1", "true", "yes"}
    return fresh, max(1, min(args.rounds, args.requests))


def percentile(samples: list[float], q: int) -> float:
    """Return the `q`th percentile of `samples` (linear interpolation)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def summarize(samples: list[float], queries: list[int]) -> dict:
    """Return p50/p95/p99, mean, max and the query-count range of one operation."""
    return {
        "n": len(samples),
        "p50": percentile(samples, 50),
        "p95": percentile(samples, 95),
        "p99": percentile(samples, 99),
        "mean": statistics.fmean(samples),
        "max": max(samples),
        "queries": [min(queries), max(queries)],
    }


def _pool(rounds: list[dict]) -> dict:
    """Return one scale's measurements with every round's samples pooled and summarized."""
    pooled: dict[str, dict] = {}
    for measured in rounds:
        for key, op in measured["ops"].items():
            into = pooled.setdefault(key, {"label": op["label"], "samples": [], "queries": []})
            into["samples"] += op["samples"]
            into["queries"] += op["queries"]
    return {
        "ops": {
            key: {"label": op["label"], **summarize(op["samples"], op["queries"])}
            for key, op in pooled.items()
        },
        "tasks_backend": rounds[0]["tasks_backend"],
        "tasks_enqueued": sum(r["tasks_enqueued"] for r in rounds),
        "restored": sum(r["restored"] for r in rounds),
        "warmup": rounds[0]["warmup"],
        "counted": rounds[0]["counted"],
    }


def _verdict(small: dict, large: dict) -> tuple[str, str]:
    ratio = large["p95"] / small["p95"] if small["p95"] else float("inf")
    passed = small["p95"] < P95_TARGET_MS and large["p95"] < P95_TARGET_MS and ratio <= MAX_GROWTH
    return f"{ratio:.2f}x", "PASS" if passed else "FAIL"


def _queries(stats: dict) -> str:
    low, high = stats["queries"]
    return str(low) if low == high else f"{low}-{high}"


def report(prepared: dict[str, dict], measured: dict[str, dict], *, rounds: int) -> str:
    """Return the printed report: header, seeding, the latency table, notes."""
    from bench.seed import (
        CONVERSATIONS_PER_PAIR,
        MEMORIES_PER_PAIR,
        MESSAGES_PER_PAIR,
        PERSONAS_PER_USER,
        SCALES,
    )

    scales = [s for s in SCALE_ORDER if s in measured]
    first = measured[scales[0]]
    n = first["ops"]["send"]["n"]
    lines = [
        "",
        "MyBella request latency, offline engine. Server-side: in process, through Django's",
        "whole request stack (APIClient with a session login; no network, no WSGI server).",
        f"Every (user, persona) pair has the same history at every scale ({MESSAGES_PER_PAIR} "
        f"messages in {CONVERSATIONS_PER_PAIR} conversations,",
        f"{MEMORIES_PER_PAIR} memories); only the number of pairs grows, so the columns show "
        "whether total table",
        "size slows one user's requests.",
    ]
    lines += [
        f"  {SCALES[s].label:>4}: {prepared[s]['counts']['pairs']:,} pairs = "
        f"{SCALES[s].users:,} users x {PERSONAS_PER_USER} personas; {prepared[s]['database']}"
        for s in scales
    ]
    lines += [
        f"Tasks: {first['tasks_backend']}: memory extraction is enqueued (recorded)",
        "but not run, as a worker would run it outside the request.",
        f"Requests: {n} timed per operation and scale, in {rounds} rounds alternating between "
        "the scales, each",
        f"after {first['warmup']} warm-up and {first['counted']} untimed query-counting "
        "requests; each for a random seeded pair (fixed seed).",
        "",
        "Seeding:",
    ]
    for s in scales:
        r = prepared[s]
        counts = r["counts"]
        how = (
            f"reused (seeded in {r['seed_seconds']:.1f} s)"
            if r["status"] == "reused"
            else f"seeded in {r['seed_seconds']:.1f} s after migrate {r['migrate_seconds']:.1f} s"
        )
        lines.append(
            f"{SCALES[s].label:>5}: {counts['messages']:>9,} messages, "
            f"{counts['memories']:>6,} memories, {counts['conversations']:>5,} conversations, "
            f"{counts['users']:>3,} users; {how}"
        )
    columns = "".join(
        f" | {SCALES[s].label + ' p50':>8} {'p95':>6} {'p99':>6} {'q':>5}" for s in scales
    )
    title = f"{'operation':<14}{columns}"
    if len(scales) == 2:
        growth = f"p95 {SCALES[scales[1]].label}/{SCALES[scales[0]].label}"
        title += f" | {growth:>10} | result"
    lines += ["", title, "-" * len(title)]
    for key, stats in first["ops"].items():
        row = f"{stats['label']:<14}"
        for s in scales:
            st = measured[s]["ops"][key]
            row += f" | {st['p50']:>8.1f} {st['p95']:>6.1f} {st['p99']:>6.1f} {_queries(st):>5}"
        if len(scales) == 2:
            ratio, verdict = _verdict(first["ops"][key], measured[scales[1]]["ops"][key])
            row += f" | {ratio:>10} | {verdict}"
        lines.append(row)
    lines += [
        "",
        "send message   POST /api/v1/chat/messages/ {message, conversation: the pair's latest}:",
        "               saves it, builds the prompt (preferences, recall, recent history),",
        "               answers with the offline engine, saves the reply; 201",
        "read history   GET  /api/v1/conversations/{id}/messages/: the newest page (30), cursor",
        "               pagination; one of the pair's conversations",
        "memory search  GET  /api/v1/personas/{id}/memories/search/?q=<2-3 words>&k=5: recall",
        "q: SQL queries per request; send runs two more (the recalled memories' sources and",
        "   their last_recalled_at) when recall returns memories.",
        "",
        f"Times in ms. Target: p95 < {P95_TARGET_MS:.0f} ms at "
        f"both scales and the {SCALES[SCALE_ORDER[-1]].label} p95 within {MAX_GROWTH}x of the "
        f"{SCALES[SCALE_ORDER[0]].label} p95.",
        "Extraction tasks enqueued: "
        + ", ".join(f"{SCALES[s].label}: {measured[s]['tasks_enqueued']}" for s in scales)
        + "; messages the run added (deleted again):",
        "  " + ", ".join(f"{SCALES[s].label}: {measured[s]['restored']}" for s in scales) + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark at every scale and print the table; return 0 whatever it shows."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--shapes",
        default="pairs,one-pair",
        help="comma-separated: pairs (many pairs, same history), one-pair (one long history)",
    )
    parser.add_argument("--scales", default=",".join(SCALE_ORDER), help="comma-separated")
    add_common_arguments(parser)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    fresh, rounds = fresh_and_rounds(args)
    if args.child:
        return child(
            args.child,
            out=Path(args.out),
            prepare=args.prepare,
            fresh=fresh,
            requests=args.requests,
            round_no=args.round,
        )

    shapes = set(args.shapes.lower().replace(" ", "").split(","))
    if not shapes or shapes - {"pairs", "one-pair"}:
        parser.error("--shapes: pairs, one-pair or both")
    incoming = os.environ.get("DATABASE_URL", "").strip()
    if "pairs" in shapes:
        _many_pairs(args, incoming=incoming, rounds=rounds, fresh=fresh, parser=parser)
    if "one-pair" in shapes:
        from bench import one_pair

        print(
            one_pair.run(
                incoming=incoming,
                scales=list(one_pair.SCALES),
                requests=args.requests,
                rounds=rounds,
                fresh=fresh,
            )
        )
    return 0


def _many_pairs(
    args: argparse.Namespace,
    *,
    incoming: str,
    rounds: int,
    fresh: bool,
    parser: argparse.ArgumentParser,
) -> None:
    scales = [s for s in SCALE_ORDER if s in args.scales.lower().replace(" ", "").split(",")]
    if not scales:
        parser.error(f"--scales: choose among {', '.join(SCALE_ORDER)}")
    DATA_DIR.mkdir(exist_ok=True)
    (DATA_DIR / ".gitignore").write_text("*\n")
    urls = {scale: database_url(scale, incoming) for scale in scales}

    prepared = {}
    for scale in scales:
        print(f"bench {scale}: {_redacted(urls[scale])}", file=sys.stderr, flush=True)
        prepare_database(urls[scale])
        prepared[scale] = _child(scale, urls[scale], "--prepare", *(["--fresh"] if fresh else []))

    load_before = os.getloadavg()[0]
    by_scale: dict[str, list[dict]] = {scale: [] for scale in scales}
    for round_no in range(rounds):
        share = args.requests // rounds + (round_no < args.requests % rounds)
        order = scales if round_no % 2 == 0 else scales[::-1]
        for scale in order:
            print(
                f"bench {scale}: round {round_no + 1}/{rounds}, {share} requests per operation",
                file=sys.stderr,
                flush=True,
            )
            by_scale[scale].append(
                _child(scale, urls[scale], "--requests", str(share), "--round", str(round_no))
            )
    measured = {scale: _pool(by_scale[scale]) for scale in scales}
    print(report(prepared, measured, rounds=rounds))
    load_after = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    print(
        f"Load average (1 min) before measuring: {load_before:.2f}, after: {load_after:.2f}, "
        f"on {cores} cores."
    )
    if max(load_before, load_after) > cores / 2:
        print("Other work was running: the tails (p95, p99) are noisier than on an idle machine.")


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return urlunsplit(parts._replace(netloc=parts.netloc.replace(parts.password, "***")))
    return url


# The children: one scale, inside Django. --------------------------------------------------


def _describe_database() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        size = Path(connection.settings_dict["NAME"]).stat().st_size / 2**20
        with connection.cursor() as cursor:
            # What the app's connections use: the settings' init_command, if any, has run.
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
        return (
            f"SQLite {sqlite3.sqlite_version}, {size:,.0f} MiB, "
            f"journal_mode={journal}, synchronous={synchronous}"
        )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def child(
    scale_name: str, *, out: Path, prepare: bool, fresh: bool, requests: int, round_no: int
) -> int:
    """Prepare (migrate and seed or reuse) or measure one scale; write the results to `out`."""
    import warnings

    import django

    # WhiteNoise warns that `collectstatic` never ran; the bench serves no static files.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    from bench.seed import SCALES, ensure_seeded, max_message_id, restore

    scale = SCALES[scale_name]
    if prepare:
        seeded = ensure_seeded(scale, fresh=fresh)
        result = {
            "status": seeded.status,
            "migrate_seconds": seeded.migrate_seconds,
            "seed_seconds": seeded.seed_seconds,
            "counts": seeded.counts,
            "database": _describe_database(),
        }
    else:
        from bench.measure import measure

        limit = max_message_id()
        try:
            result = measure(requests=requests, round_no=round_no)
        finally:
            restored = restore(limit)
        result["restored"] = restored
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
