"""A search as long as a book is refused by the API and cut short in the admin, never a 500."""

import pytest
from django.contrib import admin
from django.urls import reverse

from mybella.core import limits
from mybella.core.admin import BoundedSearchAdmin

pytestmark = pytest.mark.django_db

HUGE_WORD = "x" * 60_000


@pytest.mark.parametrize("path", ["/api/v1/personas/", "/api/v1/voices/presets/"])
def test_api_search_longer_than_the_limit_is_400(auth_api_client, path):
    response = auth_api_client.get(path, {"search": HUGE_WORD})
    assert response.status_code == 400
    assert "search" in response.json()


def test_api_search_at_the_limit_is_answered(auth_api_client):
    word = "x" * limits.SEARCH_QUERY_MAX_CHARS
    assert auth_api_client.get("/api/v1/voices/presets/", {"search": word}).status_code == 200


def _searchable_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model_admin.search_fields and model._meta.app_label != "django_tasks_database"
    ]


def test_every_searchable_admin_bounds_its_search():
    """Each of our admins with a search box cuts long searches (one rule for them all)."""
    admins = _searchable_admins()
    assert len(admins) >= 5
    for model, model_admin in admins:
        assert isinstance(model_admin, BoundedSearchAdmin), model


@pytest.mark.parametrize(
    "model_label",
    [
        "personas.personaprofile",
        "voices.voicepreset",
        "voices.customvoice",
        "voices.speechclip",
        "users.user",
        "users.apitoken",
    ],
)
def test_admin_search_longer_than_the_limit_is_cut_not_a_500(client, staff_user, model_label):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    app_label, model_name = model_label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    response = client.get(url, {"q": HUGE_WORD})
    assert response.status_code == 200
    assert "cut to" in response.content.decode()
