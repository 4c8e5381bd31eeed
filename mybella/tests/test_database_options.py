"""PostgreSQL connection options: server-side binding, so hot statements get prepared."""

import json

import pytest
from django.db import connection

from mybella.tests.processes import run_python

POSTGRES_URL = "postgres://nobody@127.0.0.1:1/unused"

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _database_options(**env: str) -> dict:
    """Return DATABASES["default"]["OPTIONS"] as the settings build them from `env`.

    A process of its own: the settings read the environment once, at import.
    """
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {}), default=str))"
    )
    result = run_python("-c", code, without=("DATABASE_",), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_binds_on_the_server_and_prepares_by_default():
    options = _database_options(DATABASE_URL=POSTGRES_URL)
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_server_side_binding_and_threshold_come_from_the_environment():
    options = _database_options(DATABASE_URL=POSTGRES_URL, DATABASE_PREPARE_THRESHOLD="2")
    assert options["prepare_threshold"] == 2
    options = _database_options(DATABASE_URL=POSTGRES_URL, DATABASE_SERVER_SIDE_BINDING="false")
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_sqlite_has_no_postgresql_options():
    options = _database_options(DATABASE_URL="sqlite:///unused.sqlite3")
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


@on_postgresql
@pytest.mark.django_db
def test_a_repeated_statement_is_prepared_on_the_connection():
    """The option reaches psycopg: the sixth run of a query uses a server-side prepared plan."""
    from mybella.users.models import User

    for _ in range(6):
        list(User.objects.filter(pk=0))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "users_user" WHERE "users_user"."id" = $1%'],
        )
        assert cursor.fetchone()[0] == 1
