"""Staff curate system personas in the admin and only look at users' own."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from personas.models import PersonaProfile
from personas.tests.api.test_uploads import stored_files
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
            "traits": "bright, Bright , kind",
            "communication_style": "warm",
            "extensions": "{}",
            **NO_LOREBOOK,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    nora = PersonaProfile.objects.get(slug="nora")
    assert (nora.is_custom, nora.owner) == (False, None)
    assert nora.avatar.name.endswith(".webp")
    assert nora.traits == ["bright", "kind"]  # cleaned like everywhere else


def test_admin_rejects_a_bad_avatar(admin_client):
    response = admin_client.post(
        reverse("admin:personas_personaprofile_add"),
        {
            "name": "Nora",
            "slug": "nora",
            "avatar": SimpleUploadedFile("n.png", b"not an image"),
            "position": "70",
            "traits": "",
            "communication_style": "warm",
            "extensions": "{}",
            **NO_LOREBOOK,
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
    assert "conversations and memories with them are hidden" in response.content.decode()
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


# ---------------------------------------------------------------- through the services


# The lorebook inline's empty management form, as the admin's add and change pages post it.
NO_LOREBOOK = {"lorebook_entries-TOTAL_FORMS": "0", "lorebook_entries-INITIAL_FORMS": "0"}


def change_data(persona: PersonaProfile, **overrides) -> dict:
    """The admin change form as a browser posts it back, with `overrides`."""
    data = {
        "name": persona.name,
        "slug": persona.slug,
        "tagline": persona.tagline,
        "is_active": "on" if persona.is_active else "",
        "position": str(persona.position),
        "bio": persona.bio,
        "traits": ", ".join(persona.traits),
        "communication_style": persona.communication_style,
        "communication_notes": persona.communication_notes,
        "greeting": persona.greeting,
        "system_prompt": persona.system_prompt,
        "example_dialogue": persona.example_dialogue,
        "extensions": json.dumps(persona.extensions),
        **NO_LOREBOOK,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def change(admin_client, persona: PersonaProfile, **overrides):
    url = reverse("admin:personas_personaprofile_change", args=[persona.pk])
    return admin_client.post(url, change_data(persona, **overrides))


@pytest.fixture
def nora(admin_client):
    with_avatar = {
        "name": "Nora",
        "slug": "nora",
        "avatar": SimpleUploadedFile("n.png", image_bytes("PNG", (80, 80), "red")),
        "is_active": "on",
        "position": "70",
        "traits": "bright",
        "communication_style": "warm",
        "extensions": "{}",
        **NO_LOREBOOK,
    }
    response = admin_client.post(reverse("admin:personas_personaprofile_add"), with_avatar)
    assert response.status_code == 302, response.content.decode()[:2000]
    return PersonaProfile.objects.get(slug="nora")


def test_replacing_an_avatar_deletes_the_old_file(
    admin_client, nora, settings, django_capture_on_commit_callbacks
):
    old = nora.avatar.name
    assert stored_files(settings) == [old]
    new = SimpleUploadedFile("m.gif", image_bytes("GIF", (80, 80), "blue"))
    with django_capture_on_commit_callbacks(execute=True):
        assert change(admin_client, nora, avatar=new).status_code == 302
    nora.refresh_from_db()
    assert nora.avatar.name != old
    assert stored_files(settings) == [nora.avatar.name]


def test_clearing_an_avatar_deletes_the_file(
    admin_client, nora, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert change(admin_client, nora, **{"avatar-clear": "on"}).status_code == 302
    nora.refresh_from_db()
    assert not nora.avatar
    assert stored_files(settings) == []


def test_a_change_without_a_new_avatar_keeps_the_file_and_cleans_traits(
    admin_client, nora, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = change(admin_client, nora, tagline="Bright", traits="warm , Warm, curious")
    assert response.status_code == 302
    nora.refresh_from_db()
    assert (nora.tagline, nora.traits) == ("Bright", ["warm", "curious"])
    assert stored_files(settings) == [nora.avatar.name]


def test_saving_unchanged_writes_nothing(admin_client, nora):
    before = nora.updated_at
    assert change(admin_client, nora).status_code == 302
    nora.refresh_from_db()
    assert nora.updated_at == before


def test_a_bad_new_avatar_is_a_form_error_and_keeps_the_old_one(admin_client, nora, settings):
    response = change(admin_client, nora, avatar=SimpleUploadedFile("x.png", b"nope"))
    assert response.status_code == 200
    assert "Upload a PNG, JPEG, WebP or GIF image." in response.content.decode()
    nora.refresh_from_db()
    assert stored_files(settings) == [nora.avatar.name]


def test_admin_delete_removes_the_avatar_file(
    admin_client, nora, settings, django_capture_on_commit_callbacks
):
    url = reverse("admin:personas_personaprofile_delete", args=[nora.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not PersonaProfile.objects.filter(slug="nora").exists()
    assert stored_files(settings) == []


def test_admin_bulk_delete_removes_the_avatar_files(
    admin_client, nora, settings, django_capture_on_commit_callbacks
):
    luna = PersonaProfile.objects.get(slug="luna")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": [nora.pk, luna.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not PersonaProfile.objects.filter(slug__in=["nora", "luna"]).exists()
    assert stored_files(settings) == []


def test_admin_bulk_delete_never_deletes_a_users_persona(admin_client, user):
    mine = PersonaFactory(owner=user)
    luna = PersonaProfile.objects.get(slug="luna")
    admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [luna.pk, mine.pk], "post": "yes"},
    )
    assert PersonaProfile.objects.filter(pk=mine.pk).exists()


def test_a_system_name_taken_is_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:personas_personaprofile_add"),
        {
            "name": "luna",
            "slug": "luna-2",
            "position": "70",
            "traits": "",
            "communication_style": "warm",
            "extensions": "{}",
            **NO_LOREBOOK,
        },
    )
    assert response.status_code == 200
    assert "A system persona with this name already exists." in response.content.decode()
    assert not PersonaProfile.objects.filter(slug="luna-2").exists()


def test_too_many_traits_is_a_form_error(admin_client, nora):
    response = change(admin_client, nora, traits=", ".join(f"t{n}" for n in range(13)))
    assert response.status_code == 200
    assert "traits" in response.context["adminform"].form.errors
    nora.refresh_from_db()
    assert nora.traits == ["bright"]
