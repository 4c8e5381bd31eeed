"""Staff curate system personas in the admin and only look at users' own."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:personas_personaprofile_changelist")


def test_changelist_shows_thumbnails_and_kinds(admin_client, user, django_assert_max_num_queries):
    PersonaFactory.create_batch(5, owner=user)
    with django_assert_max_num_queries(12):
        response = admin_client.get(CHANGELIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="persona-thumb') >= 11
    assert "style=" not in html  # the Content-Security-Policy refuses inline styles
    assert "Isabella" in html and "Custom" in html


def test_search_and_filters(admin_client, user):
    PersonaFactory(owner=user, name="Quokka")
    assert "Quokka" in admin_client.get(CHANGELIST, {"q": "quok"}).content.decode()
    assert "Isabella" not in admin_client.get(CHANGELIST, {"q": "quok"}).content.decode()
    custom_only = admin_client.get(CHANGELIST, {"kind": "custom"}).content.decode()
    assert "Quokka" in custom_only and "Isabella" not in custom_only
    PersonaProfile.objects.filter(slug="luna").update(is_active=False)
    inactive = admin_client.get(CHANGELIST, {"is_active__exact": "0"}).content.decode()
    assert "Luna" in inactive and "Alex" not in inactive


def test_add_makes_a_system_persona_with_a_checked_avatar(admin_client):
    response = admin_client.post(
        reverse("admin:personas_personaprofile_add"),
        {
            "name": "Nora",
            "slug": "nora",
            "tagline": "New here",
            "avatar": SimpleUploadedFile("n.jpg", image_bytes("JPEG", (800, 500))),
            "is_active": "on",
            "position": "70",
            "traits": '["bright"]',
            "communication_style": "warm",
            "extensions": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    nora = PersonaProfile.objects.get(slug="nora")
    assert (nora.is_custom, nora.owner) == (False, None)
    assert nora.avatar.name.endswith(".webp")


def test_admin_rejects_a_bad_avatar(admin_client):
    response = admin_client.post(
        reverse("admin:personas_personaprofile_add"),
        {
            "name": "Nora",
            "slug": "nora",
            "avatar": SimpleUploadedFile("n.png", b"not an image"),
            "position": "70",
            "traits": "[]",
            "communication_style": "warm",
            "extensions": "{}",
        },
    )
    assert response.status_code == 200
    assert "Upload a PNG, JPEG, WebP or GIF image." in response.content.decode()
    assert not PersonaProfile.objects.filter(slug="nora").exists()


def test_custom_personas_are_read_only_for_staff(admin_client, user):
    persona = PersonaFactory(owner=user, name="Private")
    url = reverse("admin:personas_personaprofile_change", args=[persona.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()  # shown, not editable
    assert admin_client.post(url, {"name": "Hacked"}).status_code == 403
    delete = reverse("admin:personas_personaprofile_delete", args=[persona.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    persona.refresh_from_db()
    assert persona.name == "Private"


def _action(admin_client, action, personas):
    return admin_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [p.pk for p in personas]},
        follow=True,
    )


def test_deactivate_activate_skip_custom_personas(admin_client, user):
    luna = PersonaProfile.objects.get(slug="luna")
    mine = PersonaFactory(owner=user)
    response = _action(admin_client, "deactivate", [luna, mine])
    assert "Skipped 1 custom persona" in response.content.decode()
    luna.refresh_from_db()
    mine.refresh_from_db()
    assert (luna.is_active, mine.is_active) == (False, True)
    _action(admin_client, "activate", [luna])
    luna.refresh_from_db()
    assert luna.is_active


def test_duplicate_makes_an_inactive_copy(admin_client):
    maya = PersonaProfile.objects.get(slug="maya")
    response = _action(admin_client, "duplicate", [maya])
    assert "inactive copy" in response.content.decode()
    copy = PersonaProfile.objects.get(name="Maya (copy)")
    assert (copy.is_active, copy.is_custom, copy.owner) == (False, False, None)
    assert (copy.bio, copy.traits, copy.greeting) == (maya.bio, maya.traits, maya.greeting)
    assert copy.slug != maya.slug
    _action(admin_client, "duplicate", [maya])
    assert PersonaProfile.objects.filter(name="Maya (copy 2)").exists()
