"""Domain errors answer the same way everywhere: JSON through the API, the 404 page on pages."""

import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mybella import urls as project_urls
from mybella.core.errors import NotFound, UpstreamError
from mybella.core.forms import DOMAIN_ERRORS, add_domain_error, error_message


class RaisingApiView(APIView):
    """Raise the domain error the URL names, as a service called by a view would."""

    def get(self, request: Request, kind: str) -> Response:
        raise ERRORS[kind]()


def raising_page(request: HttpRequest, kind: str) -> HttpResponse:
    raise ERRORS[kind]()


ERRORS = {
    "not-found": NotFound,
    "upstream-busy": lambda: UpstreamError(
        "The voice service is busy.", status_code=503, retry_after=7, retryable=True
    ),
    "upstream-bad": lambda: UpstreamError("The model answered nonsense."),
    "upstream-timeout": lambda: UpstreamError("The model took too long.", status_code=504),
    "forbidden": PermissionDenied,
}

urlpatterns = [
    path("api/v1/test-errors/<slug:kind>/", RaisingApiView.as_view()),
    path("test-errors/<slug:kind>/", raising_page),
    *project_urls.urlpatterns,  # base.html links to the project's pages
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def test_not_found_is_a_json_404_through_the_api(auth_api_client):
    """A service's NotFound reads exactly like a missing URL: nothing is revealed."""
    response = auth_api_client.get("/api/v1/test-errors/not-found/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_upstream_error_answers_its_status_and_retry_after(auth_api_client):
    response = auth_api_client.get("/api/v1/test-errors/upstream-busy/")
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response.json() == {"detail": "The voice service is busy."}


@pytest.mark.parametrize(
    ("kind", "status", "detail"),
    [
        ("upstream-bad", 502, "The model answered nonsense."),
        ("upstream-timeout", 504, "The model took too long."),
    ],
)
def test_upstream_error_without_retry_after_has_no_header(auth_api_client, kind, status, detail):
    response = auth_api_client.get(f"/api/v1/test-errors/{kind}/")
    assert response.status_code == status
    assert "Retry-After" not in response
    assert response.json() == {"detail": detail}


def test_permission_denied_stays_a_403(auth_api_client):
    response = auth_api_client.get("/api/v1/test-errors/forbidden/")
    assert response.status_code == 403


def test_domain_errors_need_a_signed_in_caller_first(api_client):
    """Authentication runs before the handler: an anonymous caller gets a 401, not the error."""
    assert api_client.get("/api/v1/test-errors/not-found/").status_code == 401


def test_not_found_is_the_html_404_page_on_pages(client, user):
    """A page that lets a service's NotFound through shows the ordinary 404 page."""
    client.force_login(user)
    response = client.get("/test-errors/not-found/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "couldn’t find that page" in response.content.decode()


def test_permission_denied_on_a_page_is_still_django_s_403(client):
    assert client.get("/test-errors/forbidden/").status_code == 403


class NameForm(forms.Form):
    name = forms.CharField()
    bio = forms.CharField(required=False)


def _bound_form() -> NameForm:
    form = NameForm(data={"name": "Ada", "bio": ""})
    assert form.is_valid()
    return form


def test_add_domain_error_puts_field_errors_on_their_fields():
    form = _bound_form()
    error = ValidationError(
        {
            "name": ValidationError("You already have a persona with this name.", code="taken"),
            "slug": "A field the form does not show.",
            "__all__": "Something about the whole thing.",
        }
    )
    add_domain_error(form, error)
    assert form.errors["name"] == ["You already have a persona with this name."]
    assert form.has_error("name", code="taken")
    assert form.non_field_errors() == [
        "A field the form does not show.",
        "Something about the whole thing.",
    ]
    assert "bio" not in form.errors


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ValidationError(["Too long.", "Too loud."]), "Too long. Too loud."),
        (NotFound(), "Not found."),
        (UpstreamError("The model is busy.", status_code=503), "The model is busy."),
        (PermissionDenied("System personas are read-only."), "System personas are read-only."),
        (PermissionDenied(), "You may not change this."),
    ],
)
def test_error_message_and_non_field_errors(error, text):
    assert isinstance(error, DOMAIN_ERRORS)
    assert error_message(error) == text
    form = _bound_form()
    add_domain_error(form, error)
    assert " ".join(form.non_field_errors()) == text


def test_error_message_refuses_other_exceptions():
    """A bug is not a message for users: it must surface."""
    with pytest.raises(TypeError):
        error_message(RuntimeError("boom"))
