"""Moving off DRF's plain-text tokens drops their table, on databases that still have it."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("users", "0002_user_settings")
AFTER = ("users", "0003_apitoken")


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def test_old_plain_text_tokens_are_dropped(migrator):
    """A database made when `rest_framework.authtoken` was installed loses its secrets."""
    old = migrator.apply_initial_migration(BEFORE)
    User = old.apps.get_model("users", "User")
    alice = User.objects.create(username="alice")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp,"
            " user_id bigint NOT NULL UNIQUE REFERENCES users_user (id))"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            ["9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "2026-01-01 00:00:00", alice.pk],
        )
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)",
            ["authtoken", "0001_initial", "2026-01-01 00:00:00"],
        )
    assert "authtoken_token" in _tables()

    new = migrator.apply_tested_migration(AFTER)
    assert "authtoken_token" not in _tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone()[0] == 0
    assert new.apps.get_model("users", "User").objects.filter(username="alice").exists()


def test_fresh_databases_migrate_without_the_old_table(migrator):
    migrator.apply_initial_migration(BEFORE)
    assert "authtoken_token" not in _tables()
    new = migrator.apply_tested_migration(AFTER)
    assert new.apps.get_model("users", "ApiToken").objects.count() == 0
