"""The chat page."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from rest_framework.request import Request

from chat import selectors
from chat.api.views import MessageCursorPagination
from chat.models import ChatMessage, Conversation
from mybella.providers.llm import get_provider
from mybella.providers.speech import get_engine
from personas import services as persona_services
from personas.models import PersonaProfile
from personas.selectors import persona_get_current, persona_get_visible, persona_list_visible


def _chosen_persona(request: HttpRequest) -> PersonaProfile | None:
    """Return the persona `?persona=` names (and make it current), else the current one."""
    persona_id = request.GET.get("persona", "")
    if not persona_id:
        return persona_get_current(user=request.user)
    persona = persona_get_visible(user=request.user, pk=persona_id)
    persona_services.persona_select(user=request.user, persona=persona)
    return persona


def _newest_page(request: HttpRequest, conversation: Conversation) -> tuple[list[ChatMessage], str]:
    """Return the newest page of messages, oldest first, and the API address of older ones.

    The API's own paginator makes the page, so the cursor the script follows to scroll
    back is exactly the one the messages endpoint would have given.
    """
    api_path = reverse("api:conversation-messages", kwargs={"pk": conversation.pk})
    # A fresh request for the API address, without this page's query string, so the
    # page always starts at the newest messages whatever `?persona=` carries.
    api_request = HttpRequest()
    api_request.method = "GET"
    api_request.path = api_request.path_info = api_path
    api_request.META = {**request.META, "QUERY_STRING": ""}
    paginator = MessageCursorPagination()
    page = paginator.paginate_queryset(
        selectors.message_list(user=request.user, conversation=conversation),
        Request(api_request),
    )
    older = paginator.get_next_link()
    if older:
        parts = urlsplit(older)
        older = f"{parts.path}?{parts.query}"
    return list(reversed(page or [])), older or ""


@login_required
@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    """Talk to the current persona (or the one in `?persona=`)."""
    user = request.user
    persona = _chosen_persona(request)
    conversation = (
        selectors.conversation_latest(user=user, persona=persona) if persona is not None else None
    )
    messages, older_url = _newest_page(request, conversation) if conversation else ([], "")
    context = {
        "persona": persona,
        "personas": list(persona_list_visible(user=user)),
        "conversation": conversation,
        "chat_messages": messages,
        "older_url": older_url,
        "offline": get_provider().offline,
        "max_chars": settings.CHAT_MESSAGE_MAX_CHARS,
        # Without an engine the page speaks with the browser's voice, asking no one.
        "speech_available": get_engine() is not None,
        "speech_max_chars": settings.SPEECH_MAX_CHARS,
    }
    return render(request, "chat/page.html", context)
