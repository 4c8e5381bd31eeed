"""A form's action URL that renders its page again on a failed POST sends a GET back to the
page: after a failed form the address bar shows the action, and a reload gave a bare 405."""

import pytest

from chat.tests.factories import MemoryFactory
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def _actions(user, luna) -> list[tuple[str, str]]:
    mine = PersonaFactory(owner=user)
    memory = MemoryFactory(user=user, persona=luna)
    return [
        ("/users/personas/new/", "/users/personas/"),
        (f"/users/personas/{mine.pk}/edit/", "/users/personas/"),
        ("/users/personas/import/", "/users/personas/"),
        (f"/users/memory/personas/{luna.pk}/add/", "/users/memory/"),
        (f"/users/memory/{memory.pk}/edit/", "/users/memory/"),
        (f"/users/memory/{memory.pk}/pin/", "/users/memory/"),
        (f"/users/memory/personas/{luna.pk}/remember/", "/users/memory/"),
        (f"/users/memory/personas/{luna.pk}/preferences/", "/users/memory/"),
        ("/users/voices/upload/", "/users/voices/"),
    ]


def test_a_get_on_a_form_action_goes_back_to_its_page(signed_in, user, luna):
    for action, page in _actions(user, luna):
        for method in ("get", "head"):
            response = getattr(signed_in, method)(action)
            assert response.status_code == 302, (method, action)
            assert response["Location"] == page, action


def test_other_methods_are_still_405(signed_in, user, luna):
    for action, _page in _actions(user, luna):
        assert signed_in.put(action).status_code == 405, action


def test_signed_out_it_asks_to_sign_in_first(client, user, luna):
    response = client.get("/users/personas/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/users/login/")
