"""`throttle_page()`: a page's POSTs count in the API's throttle scopes, for the same user.

The pages that upload or import (persona avatars, character cards, voice samples) must not
be a way around `THROTTLE_UPLOADS`, nor the API a way around the pages' count.
"""

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_POST
from rest_framework.throttling import ScopedRateThrottle

from mybella.core.throttles import throttle_page

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

done: list[str] = []


@require_POST
@throttle_page("uploads")
def upload(request: HttpRequest) -> HttpResponse:
    done.append("upload")
    return HttpResponse("saved")


@throttle_page("uploads", when=lambda request: bool(request.FILES))
def edit(request: HttpRequest) -> HttpResponse:
    done.append("edit")
    return HttpResponse("saved")


urlpatterns = [
    path("upload/", upload),
    path("edit/", edit),
    path("", include("mybella.urls")),  # the API, counting in the same scope
]
CARD = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Nova"}}


@pytest.fixture(autouse=True)
def _two_uploads_a_minute(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "uploads", "2/min")
    done.clear()


def test_a_page_over_the_rate_answers_429_and_does_nothing(client, user):
    client.force_login(user)
    statuses = [client.post("/upload/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert done == ["upload", "upload"]
    response = client.post("/upload/", HTTP_REFERER="http://testserver/users/voices/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert "Too many uploads and imports. Try again in" in page
    assert 'href="http://testserver/users/voices/"' in page


def test_the_link_back_never_leaves_the_site(client, user):
    client.force_login(user)
    client.post("/upload/")
    client.post("/upload/")
    response = client.post("/upload/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 429
    assert "evil.example" not in response.content.decode()


def test_pages_and_the_api_share_the_count(client, api_client, user):
    """One use through the API and one through a page fill a budget of two."""
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/personas/import/", CARD, format="json")
    assert response.status_code == 201
    client.force_login(user)
    assert client.post("/upload/").status_code == 200
    assert client.post("/upload/").status_code == 429
    response = api_client.post("/api/v1/personas/import/", CARD, format="json")
    assert response.status_code == 429


def test_users_are_counted_apart(client, user, other_user):
    client.force_login(user)
    client.post("/upload/")
    client.post("/upload/")
    assert client.post("/upload/").status_code == 429
    client.force_login(other_user)
    assert client.post("/upload/").status_code == 200


def test_only_the_posts_it_is_told_to_count(client, user):
    """An edit without a file is no upload; with one it counts."""
    client.force_login(user)
    assert [client.post("/edit/", {"name": "x"}).status_code for _ in range(4)] == [200] * 4
    statuses = []
    for i in range(3):
        statuses.append(client.post("/edit/", {"avatar": _file(f"a{i}.png")}).status_code)
    assert statuses == [200, 200, 429]
    assert client.get("/edit/").status_code == 200  # a GET is never counted


def _file(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"not checked here", content_type="image/png")
