"""Fixtures shared by every app's tests."""

import importlib
import os
import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from mybella.tests.browser.watch import PageWatch

pytest_plugins = [
    "mybella.tests.fakes.fake_llm",
    "mybella.tests.fakes.fake_elevenlabs",
    "mybella.tests.concurrency",
    "mybella.tests.speech",
]


def _create_system_personas() -> None:
    """Run the data migrations' loaders again: system personas and their voice presets."""
    from django.apps import apps

    importlib.import_module("personas.migrations.0002_system_personas").create_system_personas(
        apps, None
    )
    importlib.import_module("voices.migrations.0005_personavoice").load_classic_voices(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Make sure the system personas exist, even in a reused database a test flushed."""
    with django_db_blocker.unblock():
        _create_system_personas()


@pytest.fixture
def system_personas(transactional_db):
    """Bring back the system personas that an earlier transactional test flushed away."""
    _create_system_personas()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Write every uploaded file of a test to its own folders; hash passwords fast."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="a-long-password-1")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="a-long-password-2")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="staff", password="a-long-password-3", is_staff=True
    )


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def auth_api_client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def signed_in(client, user):
    """Django's test client with `user` signed in, for the server-rendered pages."""
    client.force_login(user)
    return client


def _system_persona(slug: str):
    from personas.models import PersonaProfile

    return PersonaProfile.objects.get(slug=slug)


@pytest.fixture
def luna(db):
    return _system_persona("luna")


@pytest.fixture
def isabella(db):
    return _system_persona("isabella")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with empty throttle counters."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def shared_cache(settings):
    """The cache on the machine's Redis, as in production: one every process shares (web
    processes and task workers), database 14, under a key prefix of this test's own (whose
    keys are removed afterwards: clear() would empty the database other runs use)."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "mybella.core.cache_backends.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/14",
            "KEY_PREFIX": prefix,
        }
    }
    from django.core.cache import cache

    yield cache
    client = cache._cache.get_client(write=True)
    if keys := client.keys(f"{prefix}:*"):
        client.delete(*keys)


CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; missing Chromium fails under CI, else skips."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, live_server):
    """Open pages of the live server at a named viewport; fail on any console error or
    Content-Security-Policy violation (Chromium logs those as errors too; the listener
    also catches the ones it does not). `allowed_violations` names the start of a known,
    harmless one, e.g. "img-src refused https://cdn.example/logo.svg"."""
    contexts, watches = [], []

    def _open(path: str = "/", viewport: str = "desktop", allowed_violations=()):
        context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=live_server.url)
        contexts.append(context)
        watches.append(PageWatch(context, tuple(allowed_violations)))
        page = context.new_page()
        response = page.goto(path)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        return page

    yield _open
    for context in contexts:
        context.close()
    violations = [text for watch in watches for text in watch.violations]
    assert violations == [], f"Content-Security-Policy violations: {violations}"
    unexpected = [text for watch in watches for text in watch.unexpected_errors()]
    assert unexpected == [], f"console errors: {unexpected}"


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
