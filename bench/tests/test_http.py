"""The HTTP benchmark's sequence and judgement, and its wrk script against a real server."""

import shutil
import statistics

import pytest
from rest_framework.throttling import ScopedRateThrottle

from bench import http
from mybella.users.services import api_token_create

FIXTURE = {"persona_id": 1, "conversation_id": 2, "query": "dog"}


def _runs(rates: dict[str, float], bare: list[float], rounds: int) -> list[dict]:
    """Runs in `schedule` order: the bare view at the rates `bare`, each endpoint at its rate."""
    bare_rates = iter(bare)
    runs = []
    for round_no, endpoint in http.schedule(http.endpoints(FIXTURE), rounds):
        rps = next(bare_rates) if endpoint.kind == "ceiling" else rates[endpoint.key]
        stats = {"p50": 1000, "p95": 2000, "p99": 3000, "errors": 0, "bad_status": 0}
        runs.append({"key": endpoint.key, "round": round_no, "rps": rps, **stats})
    return runs


def test_every_endpoint_of_every_round_runs_between_two_bare_runs():
    measured = http.endpoints(FIXTURE)

    runs = http.schedule(measured, rounds=3)

    keys = [endpoint.key for _, endpoint in runs]
    assert keys[::2] == ["bare"] * (1 + 3 * (len(measured) - 1))
    assert keys[1::2] == [endpoint.key for endpoint in measured[1:]] * 3
    each = len(measured) - 1
    assert [round_no for round_no, _ in runs[1::2]] == [0] * each + [1] * each + [2] * each


def test_each_endpoint_is_judged_against_the_bare_runs_around_it():
    # The bare view drifts from 480 down to 300 req/s along the run, as on a busy machine;
    # each endpoint runs at half the mean of the bare runs around it.
    measured = http.endpoints(FIXTURE)
    bare = [480 - 22.5 * n for n in range(len(measured))]
    rates = {e.key: (bare[n] + bare[n + 1]) / 4 for n, e in enumerate(measured[1:])}
    # A page at a quarter of its neighbours: half its API data's ratio, 2x slower.
    rates["page_chat"] /= 2

    analysed = http.analyse(_runs(rates, bare, rounds=1), rounds=1)

    figures = analysed["endpoints"]
    assert analysed["bare_rps"] == bare
    assert figures["bare"]["rps"] == pytest.approx(statistics.median(bare))
    assert {key: round(f["ratio"], 6) for key, f in figures.items() if key != "bare"} == {
        **dict.fromkeys(rates, 0.5),
        "page_chat": 0.25,
    }
    assert figures["page_personas"]["slower"] == pytest.approx(1.0)
    assert figures["page_chat"]["slower"] == pytest.approx(2.0)
    # Against the mean of the first and last bare runs (the old ceiling), the first endpoint
    # would have looked over 20% faster than it is.
    assert rates["personas"] / ((bare[0] + bare[-1]) / 2) > 0.6


def test_the_rounds_are_summed_up_by_their_medians_and_printed_with_the_bare_runs():
    measured = http.endpoints(FIXTURE)
    bare = [400.0] * (1 + 3 * (len(measured) - 1))
    rates = dict.fromkeys((e.key for e in measured[1:]), 240.0)
    runs = _runs(rates, bare, rounds=3)
    # The history page's three rounds: 0.6x, 0.3x and 0.45x of the bare view.
    history = [run for run in runs if run["key"] == "history"]
    for run, rps in zip(history, (240, 120, 180), strict=True):
        run["rps"] = rps

    figures = {"runs": runs, "rounds": 3, "database": "SQLite", "restored": 7}
    analysed = http.analyse(runs, rounds=3)
    table = http.report(figures, seconds=5, label="Database")

    assert analysed["endpoints"]["history"]["ratio"] == pytest.approx(0.45)
    assert analysed["endpoints"]["history"]["ratios"] == pytest.approx([0.6, 0.3, 0.45])
    # /chat/ is judged against each round's history page: 0.6/0.6, 0.3/0.6, 0.45/0.6.
    assert analysed["endpoints"]["page_chat"]["slower"] == pytest.approx(0.75)
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    assert "0.45x" in lines["GET conversations/{id}/messages/"]
    assert "0.30-0.60x" in lines["GET conversations/{id}/messages/"]
    assert "MISS >= 0.5x" in lines["GET conversations/{id}/messages/"]
    assert "PASS >= 0.5x" in lines["GET personas/"]
    assert "PASS 0.75x slower than history" in lines["page /chat/"]
    assert f"The bare view, {len(bare)} runs in order" in table
    assert "least 400, median 400, most 400: 1.00x" in table
    assert "Messages the run added (deleted again): 7." in table


@pytest.mark.skipif(shutil.which(http.WRK) is None, reason="wrk is not installed")
def test_wrk_loads_an_endpoint_and_its_script_reports_the_figures(live_server, user):
    _, key = api_token_create(user=user, name="bench")
    personas = next(e for e in http.endpoints(FIXTURE) if e.key == "personas")

    stats = http._wrk(live_server.url, personas, {"token": key}, seconds=1)

    assert stats["requests"] > 0
    assert stats["errors"] == stats["bad_status"] == 0
    assert stats["rps"] > 0
    assert 0 < stats["p50"] <= stats["p95"] <= stats["p99"]


@pytest.mark.skipif(shutil.which(http.WRK) is None, reason="wrk is not installed")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("system_personas")
def test_a_search_never_asked_before_is_a_new_read_each_request(
    live_server, user, luna, shared_cache, monkeypatch
):
    """The uncached search's script names each request apart, across wrk's threads: each one
    is built and stored anew (a cached read's entry per request), none answered from the cache."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "search", "1000000/min")  # as bench's
    _, key = api_token_create(user=user, name="bench")
    fixture = {**FIXTURE, "persona_id": luna.pk, "token": key}
    search = next(e for e in http.endpoints(fixture) if e.key == "search_new")

    stats = http._wrk(live_server.url, search, fixture, seconds=1)

    assert stats["requests"] > 0
    assert stats["errors"] == stats["bad_status"] == 0
    client = shared_cache._cache.get_client()
    entries = client.keys(f"{shared_cache.key_prefix}:*:v2:read:*")
    # wrk counts the requests answered; some sent as it stopped may have been stored too.
    assert len(entries) >= stats["requests"]
