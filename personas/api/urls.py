"""The personas app's API routes, wired under /api/v1/ by `mybella.api`."""

from rest_framework.routers import SimpleRouter

from personas.api.views import PersonaViewSet

# Registered on the project's one router (so the API root lists them), not included alone.
router = SimpleRouter()
router.register("personas", PersonaViewSet, basename="persona")

urlpatterns: list = []  # /api/v1/… outside the router
persona_urlpatterns: list = []  # /api/v1/personas/<persona_id>/…
