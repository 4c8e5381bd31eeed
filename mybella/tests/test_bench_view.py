"""The bare view `make bench` measures against: off unless asked for, and authenticated."""

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from mybella.core.bench import BareView

pytestmark = pytest.mark.django_db


def test_the_bare_view_is_not_served_without_the_bench_setting(auth_api_client):
    assert auth_api_client.get("/api/v1/bench/bare/").status_code == 404


def test_the_bare_view_answers_six_small_objects_to_an_authenticated_caller(user):
    factory = APIRequestFactory()
    anonymous = BareView.as_view()(factory.get("/api/v1/bench/bare/"))
    assert anonymous.status_code in (401, 403)
    request = factory.get("/api/v1/bench/bare/")
    force_authenticate(request, user=user)
    response = BareView.as_view()(request)
    assert response.status_code == 200
    assert len(response.data) == 6
