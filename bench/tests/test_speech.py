"""The time-to-first-audio benchmark runs end to end at its smallest: one reply.

ElevenLabs (the tests' fake server) needs nothing installed; espeak-ng's path differs only
in the engine the server is told to use. About 15 s: a fresh database is migrated.
"""

import json

from bench import speech


def test_elevenlabs_speaks_the_first_sentence_of_a_streamed_reply(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # a SQLite file of its own

    out = tmp_path / "speech.json"

    assert speech.main(["--runs", "1", "--engines", "elevenlabs", "--json", str(out)]) == 0

    [figures] = json.loads(out.read_text())
    printed = capsys.readouterr().out

    assert figures["engine"] == "elevenlabs"
    assert figures["database"] == "SQLite"
    assert figures["errors"] == []
    assert figures["sentence"] == "Oh, run 0 already, it is so lovely to hear from you again."
    audio, told = figures["first_audio_ms"], figures["first_sentence_ms"]
    assert audio["n"] == told["n"] == 1
    # The audio of a sentence comes after the sentence is told.
    assert 0 < told["p50"] < audio["p50"] == audio["p95"]
    assert "Time to first audio: 1 replies per engine" in printed
    assert "elevenlabs  first audio byte p50" in printed
