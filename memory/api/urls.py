"""The memory app's API routes, wired under /api/v1/ by `mybella.api`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from memory.api import views

# Registered on the project's one router (so the API root lists them), not included alone.
router = SimpleRouter()
router.register("memories", views.MemoryViewSet, basename="memory")

urlpatterns: list = []  # /api/v1/… outside the router

# /api/v1/personas/<persona_id>/…
persona_urlpatterns = [
    path(
        "memories/",
        views.PersonaMemoryViewSet.as_view(
            {"get": "list", "post": "create", "delete": "forget_all"}
        ),
        name="persona-memories",
    ),
    path(
        "memories/search/",
        views.PersonaMemorySearchViewSet.as_view({"get": "search"}),
        name="persona-memory-search",
    ),
    path(
        "preferences/",
        views.PersonaPreferencesViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="persona-preferences",
    ),
    path(
        "memory-settings/",
        views.PersonaMemorySettingsViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="persona-memory-settings",
    ),
]
