"""The one DRF router, the /api/v1 wiring, the schema and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
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
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
