"""A registered persona section is taken in, saved and shown with the persona, everywhere.

None is registered by personas itself (voices adds the voice); these tests register a
small one of their own.
"""

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework import serializers

from personas import services
from personas.models import PersonaProfile
from personas.sections import PersonaSection, persona_sections
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db

MOODS: dict[int, str] = {}  # what the section "stores", by persona id


class MoodForm(forms.Form):
    mood = forms.CharField(max_length=10, required=False)

    def __init__(self, *args, user=None, persona=None, **kwargs):
        super().__init__(*args, **kwargs)


class MoodSerializer(serializers.Serializer):
    mood = serializers.CharField(max_length=10)


def save_mood(*, persona, user, data):
    if data.get("mood") == "grumpy":
        raise ValidationError({"mood": "Not that mood."})
    MOODS[persona.pk] = data.get("mood", "")


def copy_mood(source, target):
    MOODS[target.pk] = MOODS.get(source.pk, "")


MOOD = PersonaSection(
    name="mood",
    form_class=MoodForm,
    template="test_mood_section.html",
    serializer_class=MoodSerializer,
    represent=lambda persona: {"mood": MOODS.get(persona.pk, "")},
    save=save_mood,
    copy=copy_mood,
)


@pytest.fixture(autouse=True)
def mood_section(settings, tmp_path):
    (tmp_path / "test_mood_section.html").write_text(
        '<fieldset data-section="mood">{{ form.mood }}{{ form.mood.errors }}</fieldset>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    MOODS.clear()
    with persona_sections.override(MOOD):
        yield


def test_create_and_update_save_the_section_in_the_same_transaction(user):
    persona = services.persona_create(
        owner=user, fields={"name": "Nova"}, sections={"mood": {"mood": "calm"}}
    )
    assert MOODS[persona.pk] == "calm"
    with pytest.raises(ValidationError):
        services.persona_update(
            persona=persona,
            user=user,
            fields={"tagline": "Changed"},
            sections={"mood": {"mood": "grumpy"}},
        )
    persona.refresh_from_db()
    assert persona.tagline != "Changed"  # rolled back with the section
    with pytest.raises(ValidationError):
        services.persona_create(
            owner=user, fields={"name": "Grump"}, sections={"mood": {"mood": "grumpy"}}
        )
    assert not PersonaProfile.objects.filter(name="Grump").exists()


def test_an_unknown_section_is_a_programming_error(user):
    with pytest.raises(TypeError):
        services.persona_create(owner=user, fields={"name": "X"}, sections={"nope": {}})


def test_duplicate_copies_the_section(staff_user):
    luna = PersonaProfile.objects.get(slug="luna")
    MOODS[luna.pk] = "dreamy"
    copy = services.persona_duplicate(persona=luna, user=staff_user)
    assert MOODS[copy.pk] == "dreamy"


def test_api_takes_the_section_nested_and_shows_it_flat(auth_api_client):
    response = auth_api_client.post(
        "/api/v1/personas/", {"name": "Nova", "mood": {"mood": "calm"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["mood"] == "calm"
    pk = response.json()["id"]
    bad = auth_api_client.patch(
        f"/api/v1/personas/{pk}/", {"mood": {"mood": "x" * 11}}, format="json"
    )
    assert bad.status_code == 400
    assert "mood" in bad.json()["mood"]
    refused = auth_api_client.patch(
        f"/api/v1/personas/{pk}/", {"tagline": "New", "mood": {"mood": "grumpy"}}, format="json"
    )
    assert refused.status_code == 400
    assert PersonaProfile.objects.get(pk=pk).tagline == ""
    assert auth_api_client.get(f"/api/v1/personas/{pk}/").json()["mood"] == "calm"


def test_page_shows_binds_and_saves_the_section(client, user):
    client.force_login(user)
    assert 'data-section="mood"' in client.get(reverse("personas:settings")).content.decode()
    data = {"name": "Nova", "communication_style": "warm", "mood": "calm"}
    assert client.post(reverse("personas:create"), data).status_code == 302
    nova = PersonaProfile.objects.get(owner=user, name="Nova")
    assert MOODS[nova.pk] == "calm"


def test_page_shows_a_section_error_on_the_section_and_saves_nothing(client, user):
    client.force_login(user)
    persona = PersonaFactory(owner=user, name="Nova", tagline="Old")
    data = {"name": "Nova", "tagline": "New", "communication_style": "warm", "mood": "grumpy"}
    response = client.post(reverse("personas:edit", args=[persona.pk]), data)
    assert response.status_code == 400
    [(section, form)] = response.context["section_forms"]
    assert section is MOOD
    assert form.errors == {"mood": ["Not that mood."]}
    assert "Not that mood." in response.content.decode()
    persona.refresh_from_db()
    assert persona.tagline == "Old"
