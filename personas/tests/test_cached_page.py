"""The persona page is cached whole per user: after every write that changes what it shows,
the next page shows it, and a cached page reads nothing but the signed-in user.

The flash messages and the CSRF token are the request's own, never cached. (The voices on
offer in its dialogs: voices/tests/test_persona_page_cache.py.)
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from personas import services
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes

pytestmark = pytest.mark.django_db

PAGE = reverse("personas:settings")


def page(client) -> str:
    """Return the persona page as `client` sees it."""
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def current(html: str) -> str:
    return re.search(r'<section class="current-persona".*?<h2>(.*?)</h2>', html, re.S).group(1)


def test_a_cached_page_reads_only_the_user(signed_in, user, django_assert_num_queries):
    PersonaFactory(owner=user, name="Mine")
    page(signed_in)
    with django_assert_num_queries(1):
        assert "Mine" in page(signed_in)


def test_the_page_shows_an_edit_an_avatar_and_a_selection(signed_in, user):
    mine = PersonaFactory(owner=user, name="Mine")
    assert current(page(signed_in)) == "Isabella"
    services.persona_update(persona=mine, user=user, fields={"name": "Renamed"})
    assert "Renamed" in page(signed_in)
    upload = SimpleUploadedFile("me.png", image_bytes("PNG", (64, 64)))
    services.persona_set_avatar(persona=mine, user=user, upload=upload)
    mine.refresh_from_db()
    assert mine.avatar.name and mine.avatar.name.split("/")[-1] in page(signed_in)
    response = signed_in.post(reverse("personas:select", args=[mine.pk]))
    assert response.status_code == 302
    assert current(page(signed_in)) == "Renamed"


def test_a_flash_message_shows_once(signed_in, user):
    mine = PersonaFactory(owner=user, name="Mine")
    page(signed_in)
    signed_in.post(reverse("personas:select", args=[mine.pk]))
    shown = page(signed_in)
    assert 'class="messages"' in shown
    assert 'class="messages"' not in page(signed_in)


def test_each_answer_has_the_requests_own_csrf_token(client, user, other_user):
    client.force_login(user)
    first = page(client)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', first).group(1)
    assert "csrf-placeholder" not in first
    other = type(client)()
    other.force_login(other_user)
    theirs = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page(other)).group(1)
    assert token != theirs
    assert "csrf-placeholder" not in page(client)


def test_a_page_that_names_the_user_is_not_stored(signed_in, user):
    PersonaFactory(owner=user, name="Mine", tagline="Hello {{user}}!")
    user.display_name = "Robin"
    user.save()
    assert "Hello Robin!" in page(signed_in)
    user.display_name = "Sam"
    user.save()
    assert "Hello Sam!" in page(signed_in)
