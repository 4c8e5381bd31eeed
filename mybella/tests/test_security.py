"""HTTPS settings, the Content-Security-Policy and the endpoint browsers report violations to."""

import json
import logging
import secrets
import subprocess

import pytest

from mybella.tests.processes import run_python

# The README's production line, with stand-ins for its secrets and hosts.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mybella",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "AWS_STORAGE_BUCKET_NAME": "mybella-media",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def _check_deploy(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `manage.py check --deploy` as a server would start: only `env` configures it.

    The test process's own switches stay out (the browser fixture sets
    DJANGO_ALLOW_ASYNC_UNSAFE, which the deploy check rightly refuses).
    """
    own = ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", *PRODUCTION)
    return run_python("manage.py", "check", "--deploy", *args, without=own, **env)


def test_check_deploy_is_clean_with_the_readme_production_settings():
    """`check --deploy --fail-level WARNING` passes with the README's production variables."""
    result = _check_deploy("--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_names_what_plain_http_lacks():
    """Without the HTTPS variables, the deploy check still warns about HSTS and the redirect."""
    plain = {key: value for key, value in PRODUCTION.items() if not key.startswith("SECURE_")}
    result = _check_deploy(**plain)
    for warning in ["security.W004", "security.W008", "security.W012", "security.W016"]:
        assert warning in result.stderr


@pytest.mark.django_db
def test_pages_are_served_under_a_strict_policy(client):
    """No inline script or style, nothing from elsewhere, reports go to /csp-report/."""
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["report-uri"] == "/csp-report/"
    assert "unsafe" not in policy


@pytest.mark.django_db
def test_https_settings_come_from_the_environment(client, settings):
    """With HSTS and the redirect on, plain HTTP is sent to HTTPS, and HTTPS gets HSTS."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=3600"


def _report(client, body: bytes | str, content_type: str = "application/csp-report"):
    return client.post("/csp-report/", body, content_type=content_type)


VIOLATION = {
    "csp-report": {
        "document-uri": "http://testserver/chat/",
        "violated-directive": "style-src-attr",
        "effective-directive": "style-src-attr",
        "blocked-uri": "inline",
        "source-file": "http://testserver/chat/",
        "line-number": 12,
        "original-policy": "default-src 'self'",
    }
}


def test_a_violation_report_is_logged(client, caplog):
    """The report is logged, one line, with where and what was refused."""
    with caplog.at_level(logging.WARNING, logger="mybella.csp"):
        response = _report(client, json.dumps(VIOLATION))
    assert response.status_code == 204
    [record] = [r for r in caplog.records if r.name == "mybella.csp"]
    message = record.getMessage()
    assert "document-uri='http://testserver/chat/'" in message
    assert "violated-directive='style-src-attr'" in message
    assert "line-number='12'" in message
    assert "\n" not in message


def test_reporting_api_reports_are_logged_too(client, caplog):
    """Chromium's Reporting API shape (a list of reports with a body) is understood."""
    reports = [
        {
            "type": "csp-violation",
            "body": {"documentURL": "http://testserver/", "effectiveDirective": "img-src"},
        }
    ]
    with caplog.at_level(logging.WARNING, logger="mybella.csp"):
        response = _report(client, json.dumps(reports), "application/reports+json")
    assert response.status_code == 204
    assert "violated-directive='img-src'" in caplog.text


def test_report_values_are_cut_short_and_newlines_escaped(client, caplog):
    forged = {"csp-report": {"document-uri": "x\nFAKE LOG LINE" + "y" * 5000}}
    with caplog.at_level(logging.WARNING, logger="mybella.csp"):
        assert _report(client, json.dumps(forged)).status_code == 204
    message = next(r.getMessage() for r in caplog.records if r.name == "mybella.csp")
    assert "\n" not in message
    assert len(message) < 400


@pytest.mark.parametrize(
    "body", [b"not json", b"\xff\xfe\x00", b"[]", b"{}", b'{"csp-report": "x"}', b"12"]
)
def test_a_malformed_report_is_a_400(client, body):
    assert _report(client, body).status_code == 400


def test_a_large_report_is_refused_unread(client, settings, caplog):
    settings.CSP_REPORT_MAX_BYTES = 1000
    big = {"csp-report": {"document-uri": "x" * 2000}}
    with caplog.at_level(logging.WARNING, logger="mybella.csp"):
        assert _report(client, json.dumps(big)).status_code == 413
    assert "mybella.csp" not in {r.name for r in caplog.records}


def test_reports_are_rate_limited_per_client(client, monkeypatch):
    """A client that floods the endpoint is turned away (THROTTLE_CSP_REPORT)."""
    from mybella.core.views import CspReportThrottle

    monkeypatch.setattr(CspReportThrottle, "THROTTLE_RATES", {"csp_report": "3/min"})
    codes = [_report(client, json.dumps(VIOLATION)).status_code for _ in range(4)]
    assert codes == [204, 204, 204, 429]


def test_reports_need_no_csrf_token_and_only_accept_post(client):
    """Browsers send reports without cookies or tokens; anything but POST is a 405."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert _report(strict, json.dumps(VIOLATION)).status_code == 204
    assert client.get("/csp-report/").status_code == 405


@pytest.mark.django_db
@pytest.mark.usefixtures("system_personas")
def test_pages_carry_no_inline_style_or_script(client, user):
    """What the policy would refuse is not in the markup: no style="", no inline <script>."""
    import re

    client.force_login(user)
    for url in [
        "/",
        "/chat/",
        "/users/personas/",
        "/users/memory/",
        "/users/voices/",
        "/users/profile/",
        "/no-such-page/",
    ]:
        html = client.get(url).content.decode()
        assert " style=" not in html, url
        # A JSON data block (json_script) is no script: the policy leaves it alone.
        assert re.search(r'<script(?![^>]*\b(src=|type="application/json"))', html) is None, url
        assert re.search(r"\son[a-z]+=", html) is None, url
    chat = client.get("/chat/").content.decode()
    assert 'class="avatar avatar-placeholder avatar-md hue-' in chat
