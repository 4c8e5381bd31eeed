"""The one DRF router, the /api/v1 wiring, the schema and its docs."""

from csp.decorators import csp_replace, csp_update
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from chat.api import views as chat_views
from memory.api import views as memory_views
from mybella.users.api import ExportView, TokenView
from personas.api.views import PersonaViewSet
from voices.api import views as voice_views

router = DefaultRouter()
router.register("personas", PersonaViewSet, basename="persona")
router.register("conversations", chat_views.ConversationViewSet, basename="conversation")
router.register("memories", memory_views.MemoryViewSet, basename="memory")
router.register("voices/presets", voice_views.VoicePresetViewSet, basename="voice-preset")
router.register("voices/custom", voice_views.CustomVoiceViewSet, basename="custom-voice")

app_name = "api"

persona_scoped = [
    path(
        "conversations/",
        chat_views.PersonaConversationsView.as_view(),
        name="persona-conversations",
    ),
    path("history/import/", chat_views.HistoryImportView.as_view(), name="persona-history-import"),
    path("memories/", memory_views.PersonaMemoriesView.as_view(), name="persona-memories"),
    path(
        "memories/search/",
        memory_views.PersonaMemorySearchView.as_view(),
        name="persona-memory-search",
    ),
    path("preferences/", memory_views.PersonaPreferencesView.as_view(), name="persona-preferences"),
    path(
        "memory-settings/",
        memory_views.PersonaMemorySettingsView.as_view(),
        name="persona-memory-settings",
    ),
    path("voice/", voice_views.PersonaVoiceView.as_view(), name="persona-voice"),
    path("speak/", voice_views.PersonaSpeakView.as_view(), name="persona-speak"),
]

urlpatterns = [
    path("v1/auth/token/", TokenView.as_view(), name="token"),
    path("v1/me/export/", ExportView.as_view(), name="me-export"),
    path("v1/chat/messages/", chat_views.MessageCreateView.as_view(), name="chat-messages"),
    path(
        "v1/chat/messages/<int:pk>/retry/",
        chat_views.MessageRetryView.as_view(),
        name="chat-message-retry",
    ),
    path("v1/personas/<int:persona_id>/", include(persona_scoped)),
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
