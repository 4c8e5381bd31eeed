"""The concurrent-streams benchmark runs end to end at a small size: three short replies.

About 10 s: a fresh SQLite database is migrated and served (bench.served, as bench.speech).
"""

import json
from concurrent.futures import ThreadPoolExecutor

from bench import streams


def test_a_few_streams_run_to_their_end_while_the_persona_list_is_timed(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # a SQLite file of its own
    monkeypatch.setattr(streams, "IDLE_SECONDS", 0.5)
    out = tmp_path / "streams.json"

    args = ["--streams", "3", "--reply-seconds", "1", "--json", str(out)]
    # In a thread of its own: after the browser tests, Playwright's sync API leaves an event
    # loop running in this one, and the bench's asyncio.run() refuses to start inside it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(streams.main, args).result() == 0

    figures = json.loads(out.read_text())
    assert figures["database"] == "SQLite"
    assert (figures["done"], figures["cut"], figures["get_failures"]) == (3, [], 0)
    assert figures["stream_seconds"]["n"] == figures["first_byte_ms"]["n"] == 3
    assert figures["stream_seconds"]["p50"] >= 1
    assert figures["idle"]["n"] > 0
    assert figures["during"]["n"] > 0
    printed = capsys.readouterr().out
    assert "streams ended with done      3/3   (none cut)" in printed
    assert "GET personas/, 3 streaming" in printed
