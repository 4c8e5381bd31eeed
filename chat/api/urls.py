"""The chat app's API routes, wired under /api/v1/ by `mybella.api`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from chat.api import views

# Registered on the project's one router (so the API root lists them), not included alone.
router = SimpleRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")

# /api/v1/…
urlpatterns = [
    path("chat/messages/", views.MessageCreateView.as_view(), name="chat-messages"),
    path(
        "chat/messages/<int:pk>/retry/",
        views.MessageRetryView.as_view(),
        name="chat-message-retry",
    ),
    path("chat/messages/<int:pk>/", views.MessageDetailView.as_view(), name="chat-message-detail"),
    path(
        "chat/messages/<int:pk>/regenerate/",
        views.MessageRegenerateView.as_view(),
        name="chat-message-regenerate",
    ),
    path(
        "chat/messages/<int:pk>/select/",
        views.MessageSelectView.as_view(),
        name="chat-message-select",
    ),
]

# /api/v1/personas/<persona_id>/…
persona_urlpatterns = [
    path(
        "conversations/",
        views.PersonaConversationViewSet.as_view({"get": "list", "post": "create"}),
        name="persona-conversations",
    ),
    path(
        "history/import/",
        views.HistoryImportViewSet.as_view({"post": "create"}),
        name="persona-history-import",
    ),
]
