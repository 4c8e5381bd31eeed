"""The chat page."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from chat import selectors
from chat.models import ChatMessage, Conversation
from chat.pagination import MessageCursorPagination
from mybella.providers.llm import get_provider
from mybella.providers.speech import speech_available
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.selectors import persona_get_current, persona_get_visible, persona_list_visible


def _shown_persona(request: HttpRequest) -> PersonaProfile | None:
    """Return the persona `?persona=` names, else the current one.

    Only shown: a GET changes nothing, so the current persona stays what it was (the
    switcher's forms post to `personas:select` to change it).
    """
    persona_id = request.GET.get("persona", "")
    if not persona_id:
        return persona_get_current(user=request.user)
    return persona_get_visible(user=request.user, pk=persona_id)


def _newest_page(user: User, conversation: Conversation) -> tuple[list[ChatMessage], str]:
    """Return the newest page of messages, oldest first, and the API address of older ones.

    The API's paginator makes the page, so the cursor the script follows to scroll back
    is exactly the one the messages endpoint would have given.
    """
    api_path = reverse("api:conversation-messages", kwargs={"pk": conversation.pk})
    page, older = MessageCursorPagination().newest_page(
        selectors.message_list(user=user, conversation=conversation), url=api_path
    )
    return page, older or ""


@login_required
@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    """Talk to the current persona (or look at the one in `?persona=`)."""
    user = request.user
    persona = _shown_persona(request)
    conversation = (
        selectors.conversation_latest(user=user, persona=persona) if persona is not None else None
    )
    messages, older_url = _newest_page(user, conversation) if conversation else ([], "")
    context = {
        "persona": persona,
        "personas": list(persona_list_visible(user=user)),
        "conversation": conversation,
        "chat_messages": messages,
        "older_url": older_url,
        "offline": get_provider().offline,
        "max_chars": settings.CHAT_MESSAGE_MAX_CHARS,
        # Without an engine the page speaks with the browser's voice, asking no one.
        "speech_available": speech_available(),
        "speech_max_chars": settings.SPEECH_MAX_CHARS,
    }
    return render(request, "chat/page.html", context)
