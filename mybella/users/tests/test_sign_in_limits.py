"""Password guessing and mass sign-up are limited per client address and per account.

Every way in (the API token endpoint, the log-in page, the admin log-in, sign-up) shares
the same counters; the client address is read from X-Forwarded-For only as far as
TRUSTED_PROXIES allows.
"""

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from mybella.users.models import User

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "a-long-password-1"  # alice's, from conftest


def _addresses():
    """Yield a new made-up client address each time: what a rotating X-Forwarded-For claims."""
    for i in itertools.count(1):
        yield f"203.0.{i // 250}.{i % 250 + 1}"


def _token(client, username, password, xff):
    return client.post(
        TOKEN_URL,
        {"username": username, "password": password},
        format="json",
        HTTP_X_FORWARDED_FOR=xff,
    )


def _page_post(client, url, username, password, xff):
    data = {"username": username, "password": password}
    if url == reverse("users:signup"):
        data = {"username": username, "password1": password, "password2": password + "x"}
    return client.post(url, data, HTTP_X_FORWARDED_FOR=xff)


def test_token_endpoint_ignores_a_rotating_x_forwarded_for_without_trusted_proxies(
    api_client, user
):
    """The issue's report: 60 guesses, each with a new header, none refused. Now 20 a minute.

    The guesses name different accounts so that only the address limit can stop them.
    """
    addresses = _addresses()
    statuses = [
        _token(api_client, f"user{i}", "guess", next(addresses)).status_code for i in range(20)
    ]
    assert statuses == [400] * 20
    response = _token(api_client, "alice", PASSWORD, next(addresses))
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "Too many sign-in attempts" in response.json()["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "token" not in response.json()


def test_guesses_at_one_account_stop_at_the_account_limit(api_client, user):
    """With the default limits, the 11th wrong guess at alice within the hour is refused."""
    addresses = _addresses()
    statuses = [
        _token(api_client, "alice", f"guess-{i}", next(addresses)).status_code for i in range(10)
    ]
    assert statuses == [400] * 10
    assert _token(api_client, "alice", PASSWORD, next(addresses)).status_code == 429


@pytest.mark.parametrize("url", ["/users/login/", "/admin/login/", "/users/signup/"])
def test_pages_ignore_a_rotating_x_forwarded_for_without_trusted_proxies(client, url, settings):
    """A page answers 429 with its form and a readable note on when to try again."""
    settings.THROTTLE_AUTH = "5/min"
    addresses = _addresses()
    for i in range(5):
        response = _page_post(client, url, f"nobody{i}", "Wrong-guess-99", next(addresses))
        # Django's admin log-in shows its form again with a 200; ours answer 400.
        assert response.status_code == (200 if url == "/admin/login/" else 400), i
    response = _page_post(client, url, "nobody", "Wrong-guess-99", next(addresses))
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert "Too many sign-" in html  # sign-in, or sign-up
    assert "Try again in" in html
    assert 'name="username"' in html and "<form" in html  # the form is still there
    assert "csrfmiddlewaretoken" in html


def test_sign_up_is_limited_per_address(settings):
    """THROTTLE_SIGNUP counts every sign-up attempt from one address, whatever the header says."""
    settings.THROTTLE_SIGNUP = "3/hour"
    addresses = _addresses()
    for i in range(3):
        client = Client()  # a fresh browser each time: signing up logs in
        response = client.post(
            reverse("users:signup"),
            {
                "username": f"new{i}",
                "password1": "Quiet-Lantern-2048",
                "password2": "Quiet-Lantern-2048",
            },
            HTTP_X_FORWARDED_FOR=next(addresses),
        )
        assert response.status_code == 302
    response = Client().post(
        reverse("users:signup"),
        {"username": "new9", "password1": "Quiet-Lantern-2048", "password2": "Quiet-Lantern-2048"},
        HTTP_X_FORWARDED_FOR=next(addresses),
    )
    assert response.status_code == 429
    assert "Too many sign-up attempts" in response.content.decode()
    assert not User.objects.filter(username="new9").exists()


def test_account_limit_holds_when_the_client_address_changes(
    api_client, client, user, other_user, settings
):
    """Behind one trusted proxy every guess comes from a new address: the account still closes.

    Failures count at the account across the API, the log-in page and the admin log-in,
    whatever the case of the username; past the limit of all addresses together even the
    right password waits, from any address. Other accounts are not affected.
    """
    settings.TRUSTED_PROXIES = 1
    settings.THROTTLE_AUTH_ACCOUNT_ALL = "6/hour"
    addresses = _addresses()
    for name in ["alice", "ALICE", " Alice"]:
        assert _token(api_client, name, "wrong-guess", next(addresses)).status_code == 400
        response = _page_post(client, "/users/login/", name, "wrong-guess", next(addresses))
        assert response.status_code == 400
    response = _token(api_client, "alice", PASSWORD, next(addresses))
    assert response.status_code == 429
    assert 60 <= int(response["Retry-After"]) <= 3600
    for url in ["/users/login/", "/admin/login/"]:
        assert _page_post(client, url, "alice", PASSWORD, next(addresses)).status_code == 429
    assert _token(api_client, "bob", "a-long-password-2", next(addresses)).status_code == 200


def test_a_strangers_guesses_close_the_account_to_their_address_only(
    api_client, client, user, settings
):
    """Ten wrong guesses from one address must not lock the owner out everywhere.

    The stranger's address waits, even with the right password (else they could go on
    guessing); the owner, elsewhere, signs in on the API and the page.
    """
    settings.TRUSTED_PROXIES = 1
    settings.THROTTLE_AUTH_ACCOUNT = "3/hour"
    stranger, owner = "203.0.113.7", "198.51.100.20"
    for _ in range(3):
        assert _token(api_client, "alice", "wrong-guess", stranger).status_code == 400
    response = _token(api_client, "alice", PASSWORD, stranger)
    assert response.status_code == 429
    assert _page_post(client, "/users/login/", "alice", PASSWORD, stranger).status_code == 429
    assert _token(api_client, "alice", PASSWORD, owner).status_code == 200
    assert _page_post(client, "/users/login/", "alice", PASSWORD, owner).status_code == 302


def test_successful_sign_ins_do_not_count_against_the_account(api_client, client, user, settings):
    settings.THROTTLE_AUTH_ACCOUNT_ALL = "2/hour"
    settings.TRUSTED_PROXIES = 1
    addresses = _addresses()
    assert _token(api_client, "alice", "wrong-guess", next(addresses)).status_code == 400
    for _ in range(4):
        assert _token(api_client, "alice", PASSWORD, next(addresses)).status_code == 200
        response = _page_post(client, "/users/login/", "alice", PASSWORD, next(addresses))
        assert response.status_code == 302
        client.logout()
    assert _token(api_client, "alice", "wrong-guess", next(addresses)).status_code == 400
    assert _token(api_client, "alice", PASSWORD, next(addresses)).status_code == 429


def test_trusted_proxy_count_picks_the_address_that_is_limited(api_client, settings):
    """With one trusted proxy, the last X-Forwarded-For entry is the client; the rest is theirs."""
    settings.TRUSTED_PROXIES = 1
    settings.THROTTLE_AUTH = "3/min"
    for i in range(3):
        xff = f"10.0.0.{i}, 198.51.100.7"  # the client forges what comes first
        assert _token(api_client, f"nobody{i}", "x", xff).status_code == 400
    assert _token(api_client, "nobody", "x", "10.0.0.99, 198.51.100.7").status_code == 429
    assert _token(api_client, "nobody", "x", "198.51.100.8").status_code == 400


def test_address_limit_is_shared_by_pages_and_api(api_client, client, settings):
    """Switching between the API, the log-in page, the admin and sign-up buys no extra tries."""
    settings.THROTTLE_AUTH = "4/min"
    assert _token(api_client, "a", "x", "1.1.1.1").status_code == 400
    assert _page_post(client, "/users/login/", "b", "x", "1.1.1.2").status_code == 400
    assert _page_post(client, "/admin/login/", "c", "x", "1.1.1.3").status_code == 200
    assert _page_post(client, "/users/signup/", "d", "x", "1.1.1.4").status_code == 400
    assert _token(api_client, "e", "x", "1.1.1.5").status_code == 429
    assert _page_post(client, "/users/login/", "f", "x", "1.1.1.6").status_code == 429


def test_reading_the_pages_is_not_limited(client, settings):
    settings.THROTTLE_AUTH = "1/min"
    for _ in range(3):
        assert client.get("/users/login/").status_code == 200
        assert client.get("/users/signup/").status_code == 200
        assert client.get("/admin/login/").status_code == 200


def test_admin_still_signs_in_staff(client, django_user_model):
    django_user_model.objects.create_superuser("root", "r@example.com", "Root-password-77")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "Root-password-77"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_limited_log_in_page_keeps_where_to_go_next(client, settings):
    settings.THROTTLE_AUTH = "1/min"
    client.post("/users/login/?next=/chat/", {"username": "a", "password": "x"})
    response = client.post("/users/login/?next=/chat/", {"username": "a", "password": "x"})
    assert response.status_code == 429
    assert 'name="next" value="/chat/"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_all_slip_under_the_account_limit(live_server, user, settings):
    """Guesses sent at once are counted before their passwords are checked: exactly the limit pass.

    A read-then-write count (as DRF's throttles keep) lets every request that reads before
    the first write through.
    """
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    settings.TRUSTED_PROXIES = 1
    settings.THROTTLE_AUTH_ACCOUNT_ALL = "3/hour"

    def guess(i: int) -> int:
        response = httpx.post(
            live_server.url + TOKEN_URL,
            json={"username": "alice", "password": f"guess-{i}"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(guess, range(12)))
    assert statuses == [400] * 3 + [429] * 9
