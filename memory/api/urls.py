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
    path("memories/", views.PersonaMemoriesView.as_view(), name="persona-memories"),
    path(
        "memories/search/",
        views.PersonaMemorySearchView.as_view(),
        name="persona-memory-search",
    ),
    path("preferences/", views.PersonaPreferencesView.as_view(), name="persona-preferences"),
    path(
        "memory-settings/",
        views.PersonaMemorySettingsView.as_view(),
        name="persona-memory-settings",
    ),
]
