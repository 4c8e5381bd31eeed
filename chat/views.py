"""The chat page, and the message rows and conversation list it fetches instead of building them."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import NotFound as BadCursor
from rest_framework.request import Request

from chat import selectors, services
from chat.cache import chat_version
from chat.models import ChatMessage, Conversation
from chat.pagination import MessageCursorPagination
from mybella.core import limits
from mybella.core.cache import cached_page, cached_pieces
from mybella.core.errors import NotFound
from mybella.core.throttles import throttle_page
from mybella.providers.llm import get_provider
from mybella.providers.speech import speech_available
from mybella.users.models import User
from personas.cache import persona_versions
from personas.models import PersonaProfile
from personas.selectors import persona_get_current, persona_get_visible, persona_list_visible
from personas.templatetags.persona_cards import user_names_filled


def _shown_persona(request: HttpRequest) -> PersonaProfile | None:
    """Return the persona `?persona=` names, else the current one.

    Only shown: a GET changes nothing, so the current persona stays what it was (the
    switcher's forms post to `personas:select` to change it).
    """
    persona_id = request.GET.get("persona", "")
    if not persona_id:
        return persona_get_current(user=request.user)
    return persona_get_visible(user=request.user, pk=persona_id)


ROWS_MAX_IDS = 10
# What `messages/older/` reads: a parameter beyond them is a mistake, not a page to guess.
OLDER_PARAMETERS = {"conversation", "cursor"}


def _older_path(conversation: Conversation) -> str:
    """Return the address of `messages/older/` for this conversation, without a cursor."""
    query = urlencode({"conversation": conversation.pk})
    return f"{reverse('chat:message-older')}?{query}"


def _newest_page(user: User, conversation: Conversation) -> tuple[list[ChatMessage], str]:
    """Return the newest page of messages, oldest first, and the address of older ones.

    The API's paginator makes the page, so the cursor the script follows to scroll back
    (through `messages/older/`) is the one the messages endpoint would have given.
    """
    page, older = MessageCursorPagination().newest_page(
        selectors.message_list(user=user, conversation=conversation), url=_older_path(conversation)
    )
    return page, older or ""


def _row_key(row: tuple[ChatMessage, PersonaProfile]) -> list[object] | None:
    """Return everything a message's row shows, or None when it changes with the clock.

    A reply still pending shows "still being written" until its writer is presumed gone.
    """
    message, persona = row
    if message.status == ChatMessage.Status.PENDING:
        return None
    avatar = persona.avatar.name if persona.avatar else ""
    return [
        "chat:row",
        message.pk,
        message.role,
        message.status,
        message.content,
        message.texts,
        message.selected,
        message.created_at,
        message.reply_to_id,
        message.error,
        persona.pk,
        persona.name,
        avatar,
    ]


def _render_row(row: tuple[ChatMessage, PersonaProfile]) -> str:
    message, persona = row
    return render_to_string(
        "chat/_message.html",
        {"message": message, "persona": persona, "placeholder": "", "preview": False},
    )


def _pending_rows_html(persona: PersonaProfile) -> list[str]:
    """Return the rows the script shows while a message is sent and its reply streams."""

    def key(placeholder: str) -> list[object]:
        avatar = persona.avatar.name if persona.avatar else ""
        return ["chat:pending-row", placeholder, persona.pk, persona.name, avatar]

    def build(placeholder: str) -> str:
        return render_to_string(
            "chat/_message.html",
            {"message": None, "persona": persona, "placeholder": placeholder, "preview": False},
        )

    return cached_pieces(["user", "reply"], key=key, build=build)


def _rows_html(rows: list[tuple[ChatMessage, PersonaProfile]]) -> list[str]:
    """Return each (message, its persona)'s row of the chat log, rendered once per content."""
    return cached_pieces(rows, key=_row_key, build=_render_row)


def _rows(request: HttpRequest, messages: list[ChatMessage], **headers: str) -> HttpResponse:
    """Render `messages` as the chat log's rows, each with its own persona."""
    response = render(
        request,
        "chat/_message_rows.html",
        {"rows_html": _rows_html([(message, message.persona) for message in messages])},
    )
    for name, value in headers.items():
        response[name] = value
    return response


def _id_or_404(value: str) -> int:
    """Return `value` as an id, or raise `NotFound`: a bad id names nothing."""
    if not value.isdigit() or len(value) > 18:
        raise NotFound
    return int(value)


def _panel(
    request: HttpRequest, persona: PersonaProfile, conversation: Conversation | None
) -> dict:
    """Return the context of the conversation list: the pair's conversations, or a search's.

    `?q=` searches titles and messages; one longer than SEARCH_QUERY_MAX_CHARS is refused
    (`search_error`), never run.
    """
    query = request.GET.get("q", "").strip()
    if len(query) > limits.SEARCH_QUERY_MAX_CHARS:
        return {
            "conversations": [],
            "search_query": query[: limits.SEARCH_QUERY_MAX_CHARS],
            "search_error": _("Keep searches under %d characters.") % limits.SEARCH_QUERY_MAX_CHARS,
            "persona": persona,
            "conversation": conversation,
        }
    return {
        "conversations": selectors.conversation_list_panel(
            user=request.user, persona=persona, query=query
        ),
        "search_query": query,
        "search_error": "",
        "persona": persona,
        "conversation": conversation,
    }


def _searching(request: HttpRequest) -> bool:
    return bool(request.GET.get("q", "").strip())


@login_required
@require_GET
@throttle_page("search", when=_searching, methods=("GET",))
def chat_page(request: HttpRequest) -> HttpResponse:
    """Talk to the current persona (or look at the one in `?persona=`).

    `?conversation=` opens one of the user's conversations, with its own persona; without
    it the persona's latest one is open. The whole page is cached per user and query until
    one of their conversations or messages (`chat.cache`) or personas changes; it is built,
    so a conversation or persona out of sight is a 404, on a miss. A page with a reply
    still being written (it changes with the clock) or with the user's name filled into a
    card's text (its sources have no version) is not stored.
    """
    provider_offline, speech = get_provider().offline, speech_available()
    return cached_page(
        request,
        "chat/page.html",
        key=[
            "chat:page",
            *(request.GET.get(name, "") for name in ("conversation", "persona", "q")),
            provider_offline,
            speech,
        ],
        depends_on=[chat_version(request.user.pk), *persona_versions(request.user)],
        context=lambda: _page_context(request, offline=provider_offline, speech=speech),
        keep=lambda context: (
            not user_names_filled(request)
            and not any(message.is_being_written for message in context["chat_messages"])
        ),
    )


def _page_context(request: HttpRequest, *, offline: bool, speech: bool) -> dict:
    user = request.user
    conversation_id = request.GET.get("conversation", "")
    if conversation_id:
        conversation = selectors.conversation_get_visible(user=user, pk=_id_or_404(conversation_id))
        persona = conversation.persona
    else:
        persona = _shown_persona(request)
        conversation = (
            selectors.conversation_latest(user=user, persona=persona)
            if persona is not None
            else None
        )
    messages, older_url = _newest_page(user, conversation) if conversation else ([], "")
    context = {
        **(_panel(request, persona, conversation) if persona is not None else {}),
        "persona": persona,
        "personas": persona_list_visible(user=user),  # the switcher's choices
        "conversation": conversation,
        "chat_messages": messages,
        "rows_html": _rows_html([(message, persona) for message in messages]),
        "pending_rows_html": _pending_rows_html(persona) if persona is not None else [],
        "older_url": older_url,
        "offline": offline,
        "max_chars": settings.CHAT_MESSAGE_MAX_CHARS,
        # Without an engine the page speaks with the browser's voice, asking no one.
        "speech_available": speech,
    }
    return context


@login_required
@require_GET
def message_rows(request: HttpRequest) -> HttpResponse:
    """Render the messages `?ids=a,b` (at most ten) of the caller's visible conversations.

    The chat script swaps a streamed reply for these rows once the stream ends. Ids of
    another user's messages, or of a persona out of sight, are simply not found: none
    found is a 404.
    """
    try:
        ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip()]
    except ValueError:
        return HttpResponseBadRequest("ids must be numbers separated by commas.")
    if not all(1 <= i <= limits.JSON_MAX_INT for i in ids):
        return HttpResponseBadRequest("ids are numbers from 1 to 2**63 - 1.")
    if not ids or len(ids) > ROWS_MAX_IDS:
        return HttpResponseBadRequest(f"Ask for 1 to {ROWS_MAX_IDS} ids.")
    messages = list(
        selectors.message_list_visible(user=request.user)
        .filter(pk__in=ids)
        .order_by("created_at", "id")
    )
    if not messages:
        raise NotFound
    return _rows(request, messages)


@login_required
@require_GET
def message_older(request: HttpRequest) -> HttpResponse:
    """Render a page of a conversation's messages, oldest first, older than `?cursor=`.

    Without a cursor, the newest page (a new conversation's first). The address of the
    page before this one, if any, is in the `X-Older-Url` header. Any other parameter
    (`before`, `page_size`) is a 400: answering the newest page would look like its answer.
    """
    if unknown := sorted(set(request.GET) - OLDER_PARAMETERS):
        return HttpResponseBadRequest(
            f"Unknown parameter{pluralize(unknown)}: {', '.join(unknown)}. This address takes "
            "only conversation and cursor: follow the X-Older-Url header to page back.",
            content_type="text/plain",
        )
    try:
        pk = int(request.GET.get("conversation", ""))
    except ValueError:
        raise NotFound from None
    conversation = selectors.conversation_get_visible(user=request.user, pk=pk)
    paginator = MessageCursorPagination()
    try:
        page = paginator.paginate_queryset(
            selectors.message_list(user=request.user, conversation=conversation),
            Request(request),
        )
    except BadCursor:
        return HttpResponseBadRequest("That cursor is not valid.")
    for message in page:
        message.persona = conversation.persona
    older = paginator.get_next_link() or ""
    return _rows(request, list(reversed(page)), **{"X-Older-Url": older})


@login_required
@require_POST
@throttle_page("chat")
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer a failed reply again and render it (answered, or failed again with Retry)."""
    try:
        exchange = services.message_retry(user=request.user, reply_id=pk)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
    return _rows(request, [exchange.reply])


@login_required
@require_GET
@throttle_page("search", when=_searching, methods=("GET",))
def conversation_list(request: HttpRequest) -> HttpResponse:
    """Render the conversation list of `?persona=`, searched by `?q=`.

    `?conversation=` is the one open on the page, marked current when it is one of the
    user's (else nothing is marked). The chat page's script swaps its list for this one
    when the user searches or a conversation changes.
    """
    persona = persona_get_visible(user=request.user, pk=request.GET.get("persona", ""))
    try:
        conversation = selectors.conversation_get_visible(
            user=request.user, pk=_id_or_404(request.GET.get("conversation", ""))
        )
    except NotFound:
        conversation = None
    context = _panel(request, persona, conversation)
    status = 400 if context["search_error"] else 200
    return render(request, "chat/_conversation_list.html", context, status=status)


def _back_to_chat(request: HttpRequest, persona: PersonaProfile, gone: int = 0) -> HttpResponse:
    """Go back to the chat page, with the conversation in `open` (unless it is `gone`)."""
    open_id = request.POST.get("open", "")
    if open_id.isdigit() and int(open_id) != gone:
        query = urlencode({"conversation": open_id})
    else:
        query = urlencode({"persona": persona.pk})
    return HttpResponseRedirect(f"{reverse('chat:page')}?{query}")


@login_required
@require_POST
def conversation_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename one of the user's conversations (the form's `title`), then go back to the chat."""
    conversation = selectors.conversation_get_visible(user=request.user, pk=pk)
    try:
        services.conversation_rename(conversation=conversation, title=request.POST.get("title", ""))
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, _("The conversation is now called “%s”.") % conversation.title)
    return _back_to_chat(request, conversation.persona)


@login_required
@require_POST
def conversation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the user's conversations, then go back to the chat."""
    conversation = selectors.conversation_get_visible(user=request.user, pk=pk)
    persona = conversation.persona
    services.conversation_delete(conversation=conversation)
    flash.success(request, _("The conversation was deleted."))
    return _back_to_chat(request, persona, gone=pk)
