"""OPTIONS on every API path is answered, never a 500 (found by schemathesis)."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


def _paths() -> list[str]:
    return sorted(SchemaGenerator().get_schema(request=None, public=True)["paths"])


def test_options_on_every_api_path_is_never_a_server_error(auth_api_client):
    isabella = PersonaProfile.objects.get(slug="isabella")
    paths = _paths()
    assert len(paths) > 30
    for path in paths:
        url = re.sub(r"\{persona_id\}", str(isabella.pk), path)
        url = re.sub(r"\{[a-z_]+\}", "1", url)
        response = auth_api_client.options(url)
        assert response.status_code < 500, (url, response.status_code)
