"""Throttles only hold when every web process counts in one shared cache.

`check --deploy` says so about a per-process cache; a server started with several
processes and such a cache refuses to start.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from mybella.core.checks import refuse_unshared_cache, server_processes

BASE_DIR = Path(__file__).resolve().parents[2]
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    }
}
DATABASE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "mybella_cache",
    }
}


@pytest.fixture
def production(settings, monkeypatch):
    """DEBUG off, started as one plain process."""
    settings.DEBUG = False
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    monkeypatch.setattr(sys, "argv", ["manage.py", "check", "--deploy"])


def cache_messages(deploy: bool = True) -> list[checks.CheckMessage]:
    found = checks.run_checks(include_deployment_checks=deploy)
    return [m for m in found if m.id in {"core.W001", "core.E001"}]


@pytest.mark.parametrize("caches", [LOCMEM, DUMMY])
def test_a_per_process_cache_is_a_deploy_warning(production, settings, caches):
    """LocMemCache and DummyCache: `check --deploy` warns, with the fix in the hint."""
    settings.CACHES = caches
    (message,) = cache_messages()
    assert message.id == "core.W001"
    assert message.level == checks.WARNING
    assert "CACHE_URL=redis://" in message.hint
    assert cache_messages(deploy=False) == []


@pytest.mark.parametrize(
    ("env", "argv"),
    [
        ({"WEB_CONCURRENCY": "4"}, ["gunicorn", "mybella.wsgi"]),
        ({"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:8000 --workers 3"}, ["gunicorn", "mybella.wsgi"]),
        ({}, ["/srv/.venv/bin/gunicorn", "-w", "4", "mybella.wsgi"]),
        ({}, ["gunicorn", "--workers=2", "mybella.wsgi"]),
        ({}, ["uvicorn", "mybella.asgi:application", "--workers", "4"]),
    ],
)
def test_a_per_process_cache_with_several_processes_is_an_error(
    production, settings, monkeypatch, env, argv
):
    """When the server is known to run several processes, the warning becomes an error."""
    settings.CACHES = LOCMEM
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", argv)
    assert server_processes() > 1
    (message,) = cache_messages()
    assert message.id == "core.E001"
    with pytest.raises(SystemCheckError, match=r"core\.E001"):
        call_command("check", "--deploy")
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        refuse_unshared_cache()


@pytest.mark.parametrize("argv", [["gunicorn", "-w", "1", "mybella.wsgi"], ["pytest", "-w"]])
def test_one_process_is_one_process(production, monkeypatch, argv):
    monkeypatch.setattr(sys, "argv", argv)
    assert server_processes() == 1


@pytest.mark.parametrize("caches", [REDIS, DATABASE])
def test_a_shared_cache_is_silent(production, settings, monkeypatch, caches):
    """Redis or the database: nothing to say, even with many processes."""
    settings.CACHES = caches
    monkeypatch.setenv("WEB_CONCURRENCY", "8")
    assert cache_messages() == []
    refuse_unshared_cache()


def test_debug_is_silent(production, settings, monkeypatch):
    """A development machine is one process talking to itself."""
    settings.DEBUG = True
    settings.CACHES = LOCMEM
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert cache_messages() == []
    refuse_unshared_cache()


def test_gunicorn_with_several_workers_and_a_local_cache_refuses_to_start(tmp_path):
    """A real gunicorn with two workers and the default cache does not start serving."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    env.pop("CACHE_URL", None)
    server = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"unix:{tmp_path / 'gunicorn.sock'}",
            "mybella.wsgi",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        timeout=120,
    )
    output = server.stdout.decode() + server.stderr.decode()
    assert server.returncode != 0, output
    assert "CACHE_URL" in output
