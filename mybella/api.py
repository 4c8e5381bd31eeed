"""The one DRF router, the /api/v1 wiring, the schema and its docs."""

from csp.decorators import csp_replace, csp_update
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from chat.api import urls as chat_urls
from memory.api import urls as memory_urls
from mybella.users.api import ApiTokenViewSet, ExportView, TokenView
from personas.api import urls as personas_urls
from voices.api import urls as voices_urls

# Each app declares its routes in its own api/urls.py; they are matched (and the router's
# listed at the API root) in this order.
APPS = [personas_urls, chat_urls, memory_urls, voices_urls]

router = DefaultRouter()
router.register("auth/tokens", ApiTokenViewSet, basename="api-token")
for app in APPS:
    for prefix, viewset, basename in app.router.registry:
        router.register(prefix, viewset, basename=basename)

app_name = "api"

urlpatterns = [
    path("v1/auth/token/", TokenView.as_view(), name="token"),
    path("v1/me/export/", ExportView.as_view(), name="me-export"),
    path("v1/", include([route for app in APPS for route in app.urlpatterns])),
    path(
        "v1/personas/<int:persona_id>/",
        include([route for app in APPS for route in app.persona_urlpatterns]),
    ),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs pages live under the site's policy: Swagger UI's page script comes from
    # the split view's `?script` URL and both templates drop drf-spectacular's inline
    # <style>. Redoc alone needs more: styled-components writes <style> elements and its
    # search runs in a worker made from a blob. Its bundle also always asks for its logo
    # from cdn.redoc.ly; the policy refuses that (Redoc then hides it), and the page sends
    # no reports so that each visit does not log that one refusal.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    path(
        "redoc/",
        csp_replace({"report-uri": None})(
            csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
                SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")
            )
        ),
        name="redoc",
    ),
]
