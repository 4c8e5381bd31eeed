"""Project-wide behaviour: settings from the environment, the schema, error pages."""

import os
import subprocess

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from mybella.tests.processes import run_python

SERVER_SWITCHES = ("SECRET_KEY", "DEBUG")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, without=SERVER_SWITCHES, **env)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return run_python("-c", code, without=SERVER_SWITCHES, **env)


@pytest.mark.parametrize("entry", ["mybella.wsgi", "mybella.asgi"])
def test_servers_refuse_the_dev_secret_key_when_debug_is_off(entry):
    result = _python(f"import {entry}", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is the development default" in result.stderr
    assert _python(f"import {entry}", DEBUG="true").returncode == 0
    assert _python(f"import {entry}", DEBUG="false", SECRET_KEY="x" * 50).returncode == 0


def test_runserver_refuses_the_dev_secret_key_when_debug_is_off():
    result = _manage("runserver", "--noreload", "127.0.0.1:0", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is the development default" in result.stderr


def test_management_commands_work_without_configuration():
    """Migrations and checks need no SECRET_KEY: only serving does."""
    assert _manage("check", DEBUG="false").returncode == 0
    assert _manage("makemigrations", "--check", "--dry-run").returncode == 0


def test_schema_generates_and_validates():
    """Every endpoint is documented with no warnings; the schema is valid OpenAPI 3."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = schema["paths"]
    for path in [
        "/api/v1/personas/",
        "/api/v1/personas/{id}/",
        "/api/v1/personas/{id}/select/",
        "/api/v1/personas/current/",
        "/api/v1/personas/{id}/avatar/",
        "/api/v1/personas/{id}/card/",
        "/api/v1/personas/import/",
        "/api/v1/auth/token/",
        "/api/v1/auth/tokens/",
        "/api/v1/auth/tokens/{id}/",
    ]:
        assert path in paths, path


def test_schema_has_no_warnings():
    result = _manage(
        "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull, DEBUG="true"
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_docs_pages_load_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_html_404_for_pages(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "couldn’t find that page" in response.content.decode()


def test_favicon(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200


@pytest.mark.django_db
def test_unexpected_api_error_is_json_500(user, monkeypatch):
    """A bug in an API view still answers JSON, never Django's HTML error page."""
    from rest_framework.test import APIClient

    from personas import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "persona_list_visible", broken)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    response = client.get("/api/v1/personas/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Something went wrong on our side. Please try again."}


HUGE = "99999999999999999999999"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/personas/{HUGE}/",
        f"/api/v1/personas/{HUGE}/conversations/",
        f"/api/v1/personas/{HUGE}/memories/",
        f"/api/v1/conversations/{HUGE}/messages/",
        f"/api/v1/memories/{HUGE}/",
        f"/api/v1/voices/custom/{HUGE}/",
        "/api/v1/personas/abc/",
        f"/chat/?persona={HUGE}",
        f"/users/memory/?persona={HUGE}",
    ],
)
def test_ids_out_of_range_are_404_not_500(user, url):
    """An id no database column can hold is simply not found."""
    from rest_framework.test import APIClient

    client = APIClient(raise_request_exception=False)
    client.force_login(user)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_oversized_requests_are_413_before_reading(user, settings):
    from rest_framework.test import APIClient

    settings.MAX_REQUEST_BYTES = 1000
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/personas/", {"name": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert client.post("/api/v1/personas/", {"name": "Small"}, format="json").status_code == 201
