"""The project's own pages (`mybella.views`)."""

import pytest

from personas.tests.factories import PersonaFactory, SystemPersonaFactory

pytestmark = pytest.mark.django_db


def test_home_welcomes_visitors_with_the_active_system_personas(client):
    custom = PersonaFactory()
    withdrawn = SystemPersonaFactory(is_active=False)
    response = client.get("/")
    assert response.status_code == 200
    shown = list(response.context["personas"])
    assert shown[0].slug == "isabella"
    assert all(not persona.is_custom and persona.is_active for persona in shown)
    assert custom not in shown
    assert withdrawn not in shown


def test_home_sends_signed_in_users_to_their_chat(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/chat/"
