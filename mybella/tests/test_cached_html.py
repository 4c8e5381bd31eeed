"""Cached HTML (pages, pieces) is keyed on the code that renders it, so a deploy never serves
old markup."""

from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from mybella.core import cache as cached


@pytest.fixture(autouse=True)
def fresh_code_version():
    code_version = cached.code_version  # a test may replace it
    code_version.cache_clear()
    yield
    code_version.cache_clear()


def test_the_code_version_follows_a_template_change(settings, tmp_path):
    template = tmp_path / "page.html"
    template.write_text("<p>{{ old }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    before = cached.code_version()
    assert cached.code_version() == before  # read once per process

    template.write_text("<p>{{ new }}</p>")
    cached.code_version.cache_clear()
    assert cached.code_version() != before


def test_pieces_and_pages_built_by_other_code_are_built_again(monkeypatch, settings, tmp_path):
    built = []

    def build(item: str) -> str:
        built.append(item)
        return f"<li>{item}</li>"

    def context() -> dict:
        built.append("page")
        return {}

    (tmp_path / "page.html").write_text("<form>{{ csrf_token }}</form>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    request = RequestFactory().get("/")
    request.user = SimpleNamespace(pk=1, is_staff=False)

    def page() -> None:
        cached.cached_page(request, "page.html", key=[], depends_on=[], context=context)

    monkeypatch.setattr(cached, "code_version", lambda: "release-1")
    cached.cached_pieces(["a"], key=lambda item: [item], build=build)
    page()
    cached.cached_pieces(["a"], key=lambda item: [item], build=build)
    page()
    assert built == ["a", "page"]

    monkeypatch.setattr(cached, "code_version", lambda: "release-2")
    cached.cached_pieces(["a"], key=lambda item: [item], build=build)
    page()
    assert built == ["a", "page", "a", "page"]
