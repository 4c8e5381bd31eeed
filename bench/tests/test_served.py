"""The served benches' scene: what the production server is given."""

from bench.served import scratch


def test_each_scratch_keeps_its_cache_keys_apart_from_any_other_run():
    # Two runs side by side or one after another share the Redis database;
    # each serves a new database, so a key another run cached (a persona list) is not its.
    cache_url = "redis://127.0.0.1:6379/10"
    with (
        scratch(tag="a", incoming_url="", tool="test") as one,
        scratch(tag="a", incoming_url="", tool="test") as other,
    ):
        envs = [
            made.env(model_url="http://127.0.0.1:1", cache_url=cache_url) for made in (one, other)
        ]

    assert [env["CACHE_URL"] for env in envs] == [cache_url, cache_url]
    assert envs[0]["CACHE_KEY_PREFIX"] == one.work.name
    assert envs[1]["CACHE_KEY_PREFIX"] == other.work.name != one.work.name
