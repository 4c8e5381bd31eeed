"""Every page, API and admin view of personas that writes does it through a service."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mybella.core.services import service_calls
from personas import urls as page_urls
from personas.api import urls as api_urls
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes
from personas.tests.test_admin import NO_LOREBOOK

pytestmark = pytest.mark.django_db

CARD = json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Card"}})


def avatar() -> SimpleUploadedFile:
    return SimpleUploadedFile("a.png", image_bytes("PNG", (40, 40)))


def persona_form(**overrides) -> dict:
    return {"name": "Nova", "communication_style": "warm", "traits": "kind", **overrides}


# Each writing page view: (URL name, how to call it with a valid request).
PAGE_WRITES = {
    "personas:create": lambda c, p: c.post(reverse("personas:create"), persona_form()),
    "personas:edit": lambda c, p: c.post(
        reverse("personas:edit", args=[p.pk]), persona_form(name="Renamed")
    ),
    "personas:select": lambda c, p: c.post(reverse("personas:select", args=[p.pk])),
    "personas:delete": lambda c, p: c.post(reverse("personas:delete", args=[p.pk])),
    "personas:import": lambda c, p: c.post(
        reverse("personas:import"), {"card": SimpleUploadedFile("c.json", CARD.encode())}
    ),
}
PAGE_READS = {"personas:settings", "personas:export"}

# Each writing API operation: ((URL name, method), how to call it).
API_WRITES = {
    ("persona-list", "post"): lambda c, p: c.post(
        "/api/v1/personas/", {"name": "Nova"}, format="json"
    ),
    ("persona-detail", "patch"): lambda c, p: c.patch(
        f"/api/v1/personas/{p.pk}/", {"tagline": "New"}, format="json"
    ),
    ("persona-detail", "delete"): lambda c, p: c.delete(f"/api/v1/personas/{p.pk}/"),
    ("persona-select", "post"): lambda c, p: c.post(f"/api/v1/personas/{p.pk}/select/"),
    ("persona-avatar", "post"): lambda c, p: c.post(
        f"/api/v1/personas/{p.pk}/avatar/", {"avatar": avatar()}, format="multipart"
    ),
    ("persona-avatar", "delete"): lambda c, p: c.delete(f"/api/v1/personas/{p.pk}/avatar/"),
    ("persona-import-card", "post"): lambda c, p: c.post(
        "/api/v1/personas/import/", CARD, content_type="application/json"
    ),
}


def admin_form(**overrides) -> dict:
    return {
        "name": "Nora",
        "slug": "nora",
        "position": "70",
        "traits": "bright",
        "communication_style": "warm",
        "extensions": "{}",
        **NO_LOREBOOK,
        **overrides,
    }


def admin_action(action: str):
    changelist = reverse("admin:personas_personaprofile_changelist")
    return lambda c, p: c.post(
        changelist, {"action": action, "_selected_action": [p.pk], "post": "yes"}
    )


ADMIN_WRITES = {
    "add": lambda c, p: c.post(reverse("admin:personas_personaprofile_add"), admin_form()),
    "change": lambda c, p: c.post(
        reverse("admin:personas_personaprofile_change", args=[p.pk]),
        admin_form(name="Renamed", slug=p.slug),
    ),
    "delete": lambda c, p: c.post(
        reverse("admin:personas_personaprofile_delete", args=[p.pk]), {"post": "yes"}
    ),
    "delete_selected": admin_action("delete_selected"),
    "activate": admin_action("activate"),
    "deactivate": admin_action("deactivate"),
    "duplicate": admin_action("duplicate"),
}


@pytest.mark.parametrize("name", sorted(PAGE_WRITES))
def test_each_writing_page_calls_a_service(client, user, name):
    client.force_login(user)
    persona = PersonaFactory(owner=user)
    before = service_calls()
    response = PAGE_WRITES[name](client, persona)
    assert response.status_code == 302, response.content.decode()[:500]
    assert service_calls() > before


@pytest.mark.parametrize(("name", "method"), sorted(API_WRITES))
def test_each_writing_api_operation_calls_a_service(auth_api_client, user, name, method):
    persona = PersonaFactory(owner=user)
    before = service_calls()
    response = API_WRITES[(name, method)](auth_api_client, persona)
    assert response.status_code < 300, response.content[:500]
    assert service_calls() > before


@pytest.mark.parametrize("name", sorted(ADMIN_WRITES))
def test_each_writing_admin_view_calls_a_service(admin_client, name):
    persona = PersonaProfile.objects.get(slug="luna")
    before = service_calls()
    response = ADMIN_WRITES[name](admin_client, persona)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert service_calls() > before


def test_the_tables_list_every_writing_view():
    """A new page or API operation that writes must be added above."""
    pages = {f"personas:{p.name}" for p in page_urls.urlpatterns}
    assert pages == set(PAGE_WRITES) | PAGE_READS
    operations = set()
    for pattern in api_urls.router.urls:
        actions = getattr(pattern.callback, "actions", {})
        for method in actions:
            if method in {"post", "put", "patch", "delete"}:
                operations.add((pattern.name, method))
    assert operations == set(API_WRITES)
    assert api_urls.urlpatterns == [] and api_urls.persona_urlpatterns == []
