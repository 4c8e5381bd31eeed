"""The voices app's API routes, wired under /api/v1/ by `mybella.api`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from voices.api import views

# Registered on the project's one router (so the API root lists them), not included alone.
router = SimpleRouter()
router.register("voices/presets", views.VoicePresetViewSet, basename="voice-preset")
router.register("voices/custom", views.CustomVoiceViewSet, basename="custom-voice")

# /api/v1/… outside the router
urlpatterns = [
    path(
        "chat/messages/<int:pk>/audio/",
        views.MessageAudioView.as_view(),
        name="chat-message-audio",
    ),
    path(
        "chat/messages/<int:pk>/audio/sentences/",
        views.MessageSentencesView.as_view(),
        name="chat-message-sentences",
    ),
]

# /api/v1/personas/<persona_id>/…
persona_urlpatterns = [
    path(
        "voice/",
        views.PersonaVoiceViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="persona-voice",
    ),
    path(
        "speak/",
        views.PersonaSpeechViewSet.as_view({"post": "create"}),
        name="persona-speak",
    ),
    path(
        "speak/sentence/",
        views.PersonaSentenceSpeechViewSet.as_view({"post": "create"}),
        name="persona-speak-sentence",
    ),
]
