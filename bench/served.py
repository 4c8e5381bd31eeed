"""A fresh database served by the production server, for the benches that stream replies.

`bench.streams` and `bench.speech` each need the same scene: a throwaway database of their
own (PostgreSQL `<name>_<tag>` beside DATABASE_URL's, else a SQLite file in a scratch
directory), migrated, with one user and an API token, served by SERVER with the tests' fake
OpenAI-compatible model as the engine, and everything removed again whatever happens.
"""

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.databases import derived_database_url
from bench.run import BASE_DIR, _is_postgres, _redacted, child_env

# The production server, as the README's production section runs it (host and port added).
SERVER = [sys.executable, "-m", "uvicorn", "mybella.asgi:application", "--workers", "2"]
READY_PATH = "/api/v1/personas/"


@dataclass(frozen=True)
class Scratch:
    """A throwaway database and the directory holding its files."""

    work: Path
    url: str

    @property
    def postgres(self) -> bool:
        """Whether the database is PostgreSQL's (else a SQLite file under `work`)."""
        return _is_postgres(self.url)

    @property
    def description(self) -> str:
        """The database as a report names it: its URL without password, or SQLite."""
        return _redacted(self.url) if self.postgres else "SQLite"

    def env(self, *, model_url: str, cache_url: str, **extra: str) -> dict[str, str]:
        """Return the server's environment: this database, the fake model at `model_url`.

        The cache's keys get a prefix of this scratch's own: the database is new, so nothing
        an earlier run (or one beside it) left in that cache is its.
        """
        return {
            **child_env(self.url),
            "CACHE_URL": cache_url,
            "CACHE_KEY_PREFIX": self.work.name,
            "MEDIA_ROOT": str(self.work / "media"),
            "PRIVATE_MEDIA_ROOT": str(self.work / "private"),
            "LLM_PROVIDER": "openai",
            "LLM_BASE_URL": model_url + "/v1",
            "LLM_API_KEY": "bench",
            "LLM_MODEL": "slow-model",
            **extra,
        }


def free_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(statement)


@contextmanager
def scratch(*, tag: str, incoming_url: str, tool: str) -> Iterator[Scratch]:
    """Make an empty database tagged `tag` beside `incoming_url`; drop it and its files after."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{tag}-"))
    url = derived_database_url(incoming_url, tag=tag, default=work / f"{tag}.sqlite3", tool=tool)
    made = Scratch(work, url)
    name = urlsplit(url).path.lstrip("/")
    try:
        if made.postgres:
            _postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _postgres(url, f'CREATE DATABASE "{name}"')
        yield made
    finally:
        if made.postgres:
            _postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


PREPARE = """
import json
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from mybella.users.models import User
from mybella.users.services import api_token_create
from personas.models import PersonaProfile
from voices.models import VoicePreset
user = User.objects.create_user("bench", password="bench-served-password")
_token, key = api_token_create(user=user)
persona = PersonaProfile.objects.filter(owner=None).order_by("pk").first()
voices = list(VoicePreset.objects.values_list("provider_voice_id", flat=True))
print(json.dumps({"key": key, "persona": persona.pk, "preset_voice_ids": voices}))
"""


def prepare(env: dict[str, str]) -> dict:
    """Migrate the database and make a user with a token, in one process (one start-up).

    Return the token's key, a system persona and the preset voices' provider ids.
    """
    out = subprocess.run(  # noqa: S603 - our own commands
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", PREPARE],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@contextmanager
def serving(env: dict[str, str], log: Path, *, tool: str) -> Iterator[str]:
    """Serve the project with SERVER and `env` until the block ends; yield its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 - our own commands
            [*SERVER, "--host", "127.0.0.1", "--port", str(port)],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with suppress(httpx.HTTPError):
                    httpx.get(base_url + READY_PATH, timeout=2)
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{tool}: the server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
