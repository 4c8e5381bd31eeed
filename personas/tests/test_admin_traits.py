"""Staff edit a persona's traits in the admin as a list: one per line (commas work too)."""

import pytest
from django.urls import reverse

from mybella.core import limits
from personas import rules
from personas.models import PersonaProfile
from personas.tests.test_admin import change_data

pytestmark = pytest.mark.django_db


def change_url(persona: PersonaProfile) -> str:
    return reverse("admin:personas_personaprofile_change", args=[persona.pk])


def test_line_breaks_separate_traits_like_commas():
    text = "warm\r\nCurious\n\n curious \nwitty, bold"
    assert rules.traits_from_text(text) == ["warm", "Curious", "witty", "bold"]


def test_the_change_form_lists_one_trait_per_line(admin_client):
    isabella = PersonaProfile.objects.get(slug="isabella")
    html = admin_client.get(change_url(isabella)).content.decode()
    lines = "\n".join(isabella.traits)
    assert '<textarea name="traits"' in html
    assert f">\n{lines}</textarea>" in html
    assert "One trait per line" in html


def test_a_list_typed_one_per_line_is_saved_clean(admin_client):
    isabella = PersonaProfile.objects.get(slug="isabella")
    data = change_data(isabella, traits="warm\r\n Curious \r\n\r\ncurious\r\nwitty, bold")
    response = admin_client.post(change_url(isabella), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    isabella.refresh_from_db()
    assert isabella.traits == ["warm", "Curious", "witty", "bold"]


def test_too_many_traits_are_an_error_and_nothing_changes(admin_client):
    isabella = PersonaProfile.objects.get(slug="isabella")
    before = list(isabella.traits)
    many = "\n".join(f"trait {n}" for n in range(limits.PERSONA_TRAITS_MAX + 1))
    response = admin_client.post(change_url(isabella), change_data(isabella, traits=many))
    assert response.status_code == 200
    assert f"Give at most {limits.PERSONA_TRAITS_MAX} traits." in response.content.decode()
    isabella.refresh_from_db()
    assert isabella.traits == before
