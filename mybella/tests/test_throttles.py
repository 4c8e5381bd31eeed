"""The client address behind trusted proxies, and the counters the sign-in limits use."""

import pytest
from django.test import RequestFactory

from mybella.core.throttles import Limited, RateLimit, auth_attempt, client_ip
from mybella.tests.test_project import _python

XFF = "10.9.9.9, 203.0.113.5, 198.51.100.7"


def _request(xff: str | None = XFF, remote_addr: str = "192.0.2.1"):
    extra = {"REMOTE_ADDR": remote_addr}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().post("/users/login/", **extra)


def test_no_trusted_proxy_means_the_peer_address_never_the_header(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_ip(_request()) == "192.0.2.1"


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [(1, "198.51.100.7"), (2, "203.0.113.5"), (3, "10.9.9.9"), (9, "10.9.9.9")],
)
def test_trusted_proxies_pick_the_address_the_outermost_trusted_proxy_saw(
    settings, proxies, expected
):
    """Each trusted proxy appends the address it received from: count them from the right."""
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(_request()) == expected


def test_without_the_header_the_peer_address_is_the_client(settings):
    settings.TRUSTED_PROXIES = 1
    assert client_ip(_request(xff=None)) == "192.0.2.1"
    assert client_ip(_request(xff="  ")) == "192.0.2.1"


def test_drf_throttles_count_proxies_the_same_way():
    """NUM_PROXIES follows TRUSTED_PROXIES, so DRF's scoped throttles agree with client_ip."""
    result = _python(
        "import django; django.setup();"
        "from rest_framework.settings import api_settings;"
        "print(api_settings.NUM_PROXIES)",
        TRUSTED_PROXIES="2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
    result = _python(
        "import django; django.setup();"
        "from rest_framework.settings import api_settings;"
        "print(api_settings.NUM_PROXIES)",
    )
    assert result.stdout.strip() == "0"


def test_rate_limit_counts_per_key_and_says_how_long_to_wait(settings):
    settings.THROTTLE_SIGNUP = "2/hour"
    limit = RateLimit("signup", "THROTTLE_SIGNUP")
    assert limit.hit("a") is None
    assert limit.hit("a") is None
    wait = limit.hit("a")
    assert wait is not None and 1 <= wait <= 3600
    assert limit.hit("b") is None  # another key has its own count


def test_rate_limit_can_give_back_a_use(settings):
    settings.THROTTLE_AUTH_ACCOUNT = "1/min"
    limit = RateLimit("account", "THROTTLE_AUTH_ACCOUNT")
    assert limit.hit("alice") is None
    limit.undo("alice")
    assert limit.hit("alice") is None
    assert limit.hit("alice") is not None


@pytest.mark.parametrize("rate", ["20/min", "10/hour", "5/s", "100/day"])
def test_rates_read_like_drf_rates(settings, rate):
    settings.THROTTLE_AUTH = rate
    assert RateLimit("address", "THROTTLE_AUTH").rate()[0] == int(rate.split("/")[0])


def test_ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4(settings):
    """One IPv6 host owns a whole /64: rotating within it buys no extra tries."""
    settings.THROTTLE_AUTH = "1/min"
    auth_attempt(_request(xff=None, remote_addr="2001:db8:0:7::1"), username="a")
    with pytest.raises(Limited):
        auth_attempt(_request(xff=None, remote_addr="2001:db8:0:7:ffff::9"), username="b")
    auth_attempt(_request(xff=None, remote_addr="2001:db8:0:8::1"), username="c")
    auth_attempt(_request(xff=None, remote_addr="192.0.2.50"), username="d")
    with pytest.raises(Limited):
        auth_attempt(_request(xff=None, remote_addr="::ffff:192.0.2.50"), username="e")
