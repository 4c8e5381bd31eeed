"""Limit password guessing and mass sign-up, the same way for pages and the API.

Two kinds of counters, kept in Django's cache so that every web process shares them
(use Redis through CACHE_URL when there is more than one):

* per client address, every sign-in and sign-up attempt (`THROTTLE_AUTH`), and sign-up
  attempts on their own (`THROTTLE_SIGNUP`);
* per account, failed sign-in attempts: from one address (`THROTTLE_AUTH_ACCOUNT`), so a
  stranger guessing from one address closes the account to that address only, not to its
  owner; and from all addresses together (`THROTTLE_AUTH_ACCOUNT_ALL`, higher), so that
  guesses spread over many addresses still stop.

The client address is read from X-Forwarded-For only as far as `TRUSTED_PROXIES` allows
(DRF's `NUM_PROXIES` is set from the same setting, so its scoped throttles agree).

Every way in goes through `auth_attempt()`: the API token view calls it, and the pages
(log-in, admin log-in, sign-up, setting a password from a reset link) are wrapped in
`rate_limit_auth()`. Requests for a reset link go through `password_reset_attempt()`.

Every limit counts with `window_hit()`: one cache entry per key and window, atomic. The
API's own rates (`THROTTLE_UPLOADS`, `THROTTLE_CHAT`, `THROTTLE_SPEECH`: DRF scopes, counted
by `WindowScopedRateThrottle`) reach the pages through `throttle_page()`: a page's POST
counts in the same scope, for the same user, as the API's request doing the same thing, so
neither is a way around the other.
"""

import contextlib
import hashlib
import ipaddress
import math
import time
import unicodedata
from collections.abc import Callable
from functools import wraps
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request: HttpRequest) -> str:
    """Return the address of the client, trusting X-Forwarded-For only from trusted proxies.

    Each of the `TRUSTED_PROXIES` proxies in front of the app appends the address it got
    the request from, so the client is the n-th entry from the right; anything further
    left was written by the client and is ignored. With no trusted proxy (the default)
    the header is never read. This is DRF's `get_ident()` rule for `NUM_PROXIES`.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    xff = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not xff.strip():
        return remote_addr
    addresses = xff.split(",")
    return addresses[-min(proxies, len(addresses))].strip() or remote_addr


def window_hit(key: str, count: int, seconds: int) -> int | None:
    """Count one use of `key`; return the seconds to wait when it is over `count`, else None.

    A window opens at a key's first use and lasts `seconds`; the count is one cache entry
    that expires with it, `cache.incr`: atomic in Redis, Memcached and the local-memory
    cache, so parallel requests cannot all slip under the limit together (a read-then-write
    history, as DRF's throttles keep, can), and its cost does not grow with the rate (DRF's
    reads and writes back a list of every request's time within the period). On Redis
    (`mybella.core.cache_backends.RedisCache`) it is one script, one round trip: INCR, and
    the window's expiry for a counter that has none; the wait is the counter's TTL.
    """
    if counter := getattr(cache, "count_in_window", None):  # Redis: one round trip
        used, left = counter(key, seconds)
        return None if used <= count else max(1, min(seconds, left))
    now = time.time()
    try:
        used = cache.incr(key)
    except ValueError:  # no open window: this use opens one
        cache.add(key, 0, seconds)
        try:
            used = cache.incr(key)
        except ValueError:  # a cache that keeps nothing (DummyCache) counts nothing
            return None
    if used == 1:
        # This use opened the window. Its entry lasts the period from now, also when an
        # `incr` met the last one as it expired (Redis then counts from 0, with no expiry).
        cache.touch(key, seconds)
        cache.set(f"{key}:opened", now, seconds)
    if used <= count:
        return None
    opened = cache.get(f"{key}:opened", now)
    return max(1, min(seconds, math.ceil(opened + seconds - now)))


class RateLimit:
    """Count uses per key in windows of the rate's period (`window_hit`), in the cache."""

    def __init__(self, scope: str, setting: str) -> None:
        self.scope = scope
        self.setting = setting

    def rate(self) -> tuple[int, int]:
        """Return (uses, seconds) from the setting, written like DRF's rates: `20/min`."""
        count, period = getattr(settings, self.setting).split("/")
        return int(count), PERIODS[period.strip()[0]]

    def _key(self, ident: str) -> str:
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return f"ratelimit:{self.scope}:{digest}"

    def hit(self, ident: str) -> int | None:
        """Count one use; return the seconds to wait when it is over the limit, else None."""
        count, seconds = self.rate()
        return window_hit(self._key(ident), count, seconds)

    def undo(self, ident: str) -> None:
        """Give back one use counted for `ident` in its open window (a sign-in that was right)."""
        key = self._key(ident)
        with contextlib.suppress(ValueError):  # the window is gone: nothing to give back
            if cache.decr(key) < 0:  # it closed as it was given back: Redis made a new entry
                cache.delete(key)


class WindowScopedRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle (`throttle_scope`, `DEFAULT_THROTTLE_RATES`, per user or address)
    counting in `window_hit`'s windows instead of a list of request times."""

    _wait: int | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self._wait = window_hit(self.key, self.num_requests, self.duration)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


# What each API throttle scope counts, for the note of a page refused by `throttle_page()`.
SCOPE_TITLES = {
    "uploads": gettext_lazy("Too many uploads and imports."),
    "chat": gettext_lazy("Too many messages."),
    "speech": gettext_lazy("Too many speech requests."),
    "conversations": gettext_lazy("Too many new conversations."),
    "memory": gettext_lazy("Too many new memories."),
}


class Limited(Exception):
    """A sign-in, sign-up or password reset attempt refused until `wait` seconds have passed."""

    def __init__(
        self, wait: int, *, signup: bool = False, reset: bool = False, scope: str = ""
    ) -> None:
        super().__init__(wait)
        self.wait = wait
        self.signup = signup
        self.reset = reset
        self.scope = scope

    @property
    def title(self) -> str:
        if self.scope:
            return str(SCOPE_TITLES.get(self.scope, _("Too many requests.")))
        if self.reset:
            return _("Too many password reset requests.")
        return _("Too many sign-up attempts.") if self.signup else _("Too many sign-in attempts.")

    @property
    def message(self) -> str:
        """Say what happened and when to try again, for people."""
        if self.wait < 90:
            when = ngettext("%(n)d second", "%(n)d seconds", self.wait) % {"n": self.wait}
        else:
            minutes = math.ceil(self.wait / 60)
            when = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
        return _("%(title)s Try again in %(when)s.") % {"title": self.title, "when": when}


class AuthAttempt:
    """One counted sign-in attempt; tell it when the password turned out right."""

    def __init__(self) -> None:
        self._counted: list[tuple[RateLimit, str]] = []  # the failure counters it was counted in

    def succeeded(self) -> None:
        """Take this attempt off the account's failures: only wrong guesses count there."""
        for limit, ident in self._counted:
            limit.undo(ident)
        self._counted = []


def _address_key(request: HttpRequest) -> str:
    """Return the client's address as a limit key; an IPv6 client counts by its /64."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def normalize_account(username: object) -> str:
    """Return the username as the per-account limit sees it: trimmed, NFKC, case-folded."""
    if not isinstance(username, str):
        return ""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def auth_attempt(
    request: HttpRequest, *, username: object = None, signup: bool = False
) -> AuthAttempt:
    """Count a sign-in (or sign-up) attempt from this client; raise Limited when over a limit.

    The attempt counts against the client address first. A sign-in also counts as a
    failure of the named account, from this address and from all, until `succeeded()` is
    called on the returned attempt, so parallel guesses are counted before their passwords
    are checked.
    """
    address = _address_key(request)
    wait = RateLimit("address", "THROTTLE_AUTH").hit(address)
    if wait is not None:
        raise Limited(wait, signup=signup)
    if signup:
        wait = RateLimit("signup", "THROTTLE_SIGNUP").hit(address)
        if wait is not None:
            raise Limited(wait, signup=True)
        return AuthAttempt()
    attempt = AuthAttempt()
    account = normalize_account(username)
    if account:
        # One address's guesses close the account to that address; everyone's together, to all.
        for limit, ident in (
            (RateLimit("account-address", "THROTTLE_AUTH_ACCOUNT"), f"{account}\n{address}"),
            (RateLimit("account", "THROTTLE_AUTH_ACCOUNT_ALL"), account),
        ):
            wait = limit.hit(ident)
            if wait is not None:
                attempt.succeeded()  # a refused attempt is no guess: give back what it counted
                raise Limited(wait)
            attempt._counted.append((limit, ident))
    return attempt


def password_reset_attempt(request: HttpRequest, *, email: str) -> None:
    """Count a request for a password reset link; raise Limited when over a limit.

    It counts against the client address (`THROTTLE_PASSWORD_RESET`) and against the email
    address asked for (`THROTTLE_PASSWORD_RESET_EMAIL`), whether or not an account has that
    address: the answer is the same either way, so nobody learns which addresses exist,
    and nobody can fill someone's inbox with links.
    """
    wait = RateLimit("reset-address", "THROTTLE_PASSWORD_RESET").hit(_address_key(request))
    if wait is None:
        email_key = unicodedata.normalize("NFKC", email).strip().casefold()
        wait = RateLimit("reset-email", "THROTTLE_PASSWORD_RESET_EMAIL").hit(email_key)
    if wait is not None:
        raise Limited(wait, reset=True)


def rate_limit_auth(
    view: Callable[..., HttpResponse] | None = None, *, signup: bool = False
) -> Callable[..., HttpResponse]:
    """Put a page's sign-in (or sign-up) form POSTs through `auth_attempt()`.

    A limited POST is not processed: the page is rendered as for a GET (the form, with the
    `next` it was given) with a message saying when to try again, as a 429 with
    Retry-After. A sign-in succeeded when the view logged someone in.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            username = request.POST.get(get_user_model().USERNAME_FIELD)
            try:
                attempt = auth_attempt(request, username=username, signup=signup)
            except Limited as limited:
                request.method = "GET"  # show the form again; the POST is never looked at
                messages.error(request, limited.message)
                response = view(request, *args, **kwargs)
                if response.status_code == 200:  # not a redirect of someone signed in
                    response.status_code = 429
                    response["Retry-After"] = str(limited.wait)
                return response
            before = getattr(request, "user", None)
            response = view(request, *args, **kwargs)
            # login() replaces request.user: that is the sign of a right password.
            after = getattr(request, "user", None)
            if after is not before and after is not None and after.is_authenticated:
                attempt.succeeded()
            return response

        return wrapped

    return decorator(view) if view is not None else decorator


def scope_attempt(request: HttpRequest, scope: str) -> None:
    """Count one use of the API throttle `scope` by this request's user (or address).

    The counter is the API's own (`WindowScopedRateThrottle`, the `DEFAULT_THROTTLE_RATES`
    of the scope), so uses through the pages and the API add up. Raise Limited when over it.
    """
    throttle = WindowScopedRateThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return
    raise Limited(max(1, math.ceil(throttle.wait() or 1)), scope=scope)


def throttle_page(
    scope: str,
    *,
    when: Callable[[HttpRequest], bool] | None = None,
    methods: tuple[str, ...] = ("POST",),
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Count a page's POSTs (those `when` accepts, else all) under the API throttle `scope`.

    `methods` names the requests that count, POST unless told otherwise (a costly download
    counts its GETs). Over the limit the request is not processed: a 429 page with
    Retry-After says when to try again and links back to the page the form was on.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method in methods and (when is None or when(request)):
                try:
                    scope_attempt(request, scope)
                except Limited as limited:
                    return _limited_page(request, limited)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _limited_page(request: HttpRequest, limited: Limited) -> HttpResponse:
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    response = render(request, "429.html", {"message": limited.message, "back": back}, status=429)
    response["Retry-After"] = str(limited.wait)
    return response
