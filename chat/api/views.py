import json
from collections.abc import AsyncGenerator, Generator

from django.core.handlers.asgi import ASGIRequest
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.api.serializers import (
    ChatMessageSerializer,
    ConversationInputSerializer,
    ConversationRenameSerializer,
    ConversationSerializer,
    ExchangeErrorSerializer,
    ExchangeSerializer,
    HistoryImportResultSerializer,
    HistoryImportSerializer,
    HistoryItemSerializer,
    MessageEditInputSerializer,
    MessageRegenerateInputSerializer,
    MessageSelectInputSerializer,
    MessageSendInputSerializer,
)
from chat.cache import chat_version
from chat.models import ChatMessage, Conversation
from chat.pagination import ConversationPagination, MessageCursorPagination
from mybella.core.api import ScopedQuerysetMixin
from mybella.core.cache import cached_read
from mybella.core.exceptions import upstream_headers
from mybella.core.parsers import StrictJSONParser
from mybella.core.schema import ErrorSerializer
from personas.api.scoping import PersonaScopedMixin
from personas.cache import persona_versions
from personas.models import PersonaProfile


class EventStreamRenderer(BaseRenderer):
    """Let clients ask for `text/event-stream`; errors then arrive as one `error` event."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(
        self,
        data: object,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        return _sse("error", data).encode()


class JSONLinesRenderer(BaseRenderer):
    """Let clients ask for `application/jsonl` (an export); errors then arrive as one JSON line."""

    media_type = "application/jsonl"
    format = "jsonl"
    charset = "utf-8"

    def render(
        self,
        data: object,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        return (json.dumps(data, default=str) + "\n").encode()


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


# How the schema describes one Server-Sent Event of a streamed reply (OpenAPI 3.0 cannot
# say more about the JSON inside `data`).
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["message", "delta", "sentence", "done", "error"]},
        "data": {
            "type": "string",
            "description": (
                "JSON. `message`: your saved message (a ChatMessage). `delta`: `{text}`, the "
                "next piece of the reply. `sentence`: `{index, text}`, a sentence of the reply "
                "(from 0, as it is spoken: without markdown's marks) once the next one has "
                "begun, the last ones just before `done`; speak each with "
                "`POST /api/v1/personas/{id}/speak/sentence/`. `done`: `{user_message_id, "
                "assistant_message_id, "
                "conversation_id, provider}`. `error`: `{detail, status, user_message_id, "
                "assistant_message_id}`, or `{detail}` when the request itself was refused."
            ),
        },
    },
    "required": ["event", "data"],
}


# The answers the schema gives every call that asks the engine, and every call on one message.
ENGINE_ERRORS = {
    502: ExchangeErrorSerializer,
    503: ExchangeErrorSerializer,
    504: ExchangeErrorSerializer,
}
NO_SUCH_MESSAGE = OpenApiResponse(ErrorSerializer, description="No such message.")


def _exchange_data(exchange: services.Exchange) -> dict:
    return {
        "conversation": exchange.user_message.conversation_id,
        "user_message": ChatMessageSerializer(exchange.user_message).data,
        "assistant_message": ChatMessageSerializer(exchange.reply).data,
        "offline": exchange.reply.provider == "offline",
    }


def _exchange_response(exchange: services.Exchange, ok_status: int) -> Response:
    data = _exchange_data(exchange)
    if exchange.error is None:
        return Response(data, status=ok_status)
    return Response(
        {"detail": exchange.error.message, **data},
        status=exchange.error.status_code,
        headers=upstream_headers(exchange.error),
    )


class MessageCreateView(APIView):
    """Send a message to a persona and get the reply."""

    throttle_scope = "chat"
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        summary="Send a message",
        description=(
            "Saves your message and answers it. Persona defaults to your current persona, "
            "conversation to that pair's latest. With `stream: true` or "
            "`Accept: text/event-stream` the reply streams as Server-Sent Events: `message` "
            "(your saved message, with `assistant_message_id`: the reply is saved as "
            "`pending` from the start), `delta` pieces with a `sentence` event as each "
            "sentence completes, then `done` with both message ids (or `error`). A stream "
            "you close early leaves the reply `stopped` with what was written; retry "
            "answers it again. If the engine fails your message is still "
            "saved, the reply is saved as failed, and the answer is 502, 503 or 504."
        ),
        request=MessageSendInputSerializer,
        responses={
            201: ExchangeSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                SSE_EVENT, description="The reply as Server-Sent Events; each one is this."
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such persona or conversation."),
            **ENGINE_ERRORS,
        },
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        serializer = MessageSendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The service looks the ids up among what the caller may see.
        target = {
            "user": request.user,
            "text": data["message"],
            "persona_id": data.get("persona"),
            "conversation_id": data.get("conversation"),
        }
        if not _wants_stream(request, data["stream"]):
            exchange = services.message_send(**target)
            return _exchange_response(exchange, status.HTTP_201_CREATED)
        exchange, events = services.message_send_stream(**target)
        return _stream_response(request, exchange, events)


def _stream_response(
    request: Request,
    exchange: services.Exchange,
    events: services.ReplyEvents,
    *,
    first: ChatMessage | None = None,
) -> StreamingHttpResponse:
    """Answer with the service's events as SSE; the first, `message`, also names the reply.

    `message` is `first` (default: the user's message just saved). Under an ASGI server the
    events are read asynchronously, so a stream holds no worker or thread while the model
    writes; under WSGI (runserver, gunicorn) synchronously. Either way the server closing
    the stream (the client went away) saves the reply as stopped.
    """
    # Serialized here, in the view's thread: the async stream must not touch the ORM.
    message = {
        **ChatMessageSerializer(first or exchange.user_message).data,
        "assistant_message_id": exchange.reply.id,
    }
    if isinstance(request._request, ASGIRequest):
        content = _async_event_stream(message, events)
    else:
        content = _event_stream(message, events)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _sse_event(message: dict, event: dict) -> str:
    kind = event.pop("type")
    return _sse("message", message) if kind == "start" else _sse(kind, event)


def _event_stream(message: dict, events: services.ReplyEvents) -> Generator[str, None, None]:
    try:
        for event in events:
            yield _sse_event(message, event)
    finally:
        events.close()


async def _async_event_stream(
    message: dict, events: services.ReplyEvents
) -> AsyncGenerator[str, None]:
    stream = aiter(events)
    try:
        async for event in stream:
            yield _sse_event(message, event)
    finally:
        await stream.aclose()


def _wants_stream(request: Request, asked: bool) -> bool:
    return asked or "text/event-stream" in request.headers.get("Accept", "")


class MessageRetryView(APIView):
    """Try again to answer a message whose reply failed."""

    throttle_scope = "chat"

    @extend_schema(
        summary="Retry a failed reply",
        description=(
            "Answers again the message the reply was for. A `failed` or `stopped` reply can be "
            "retried, and a `pending` one whose writing was abandoned; one still being "
            "written is a 400."
        ),
        request=None,
        responses={
            200: ExchangeSerializer,
            **ENGINE_ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        exchange = services.message_retry(user=request.user, reply_id=pk)
        return _exchange_response(exchange, status.HTTP_200_OK)


class MessageRegenerateView(APIView):
    """Answer the latest reply's message again, keeping the earlier answers."""

    throttle_scope = "chat"
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        summary="Regenerate the latest reply",
        description=(
            "Answers the message again as a new alternative of the reply, which becomes "
            "the selected one (`alternatives`, `selected`); the earlier ones stay, and "
            "`select/` picks among them. Only the latest finished or stopped reply of a "
            "conversation can be regenerated (else 400). With `stream: true` or "
            "`Accept: text/event-stream` the new text streams as in sending: `message` (the "
            "reply, now `pending`), `delta` pieces and `sentence` events, then `done` or "
            "`error`. If the engine "
            "fails before writing anything the reply is put back as it was, and the answer "
            "is 502, 503 or 504 with it."
        ),
        request=MessageRegenerateInputSerializer,
        responses={
            200: ExchangeSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                SSE_EVENT, description="The new text as Server-Sent Events; each one is this."
            ),
            404: NO_SUCH_MESSAGE,
            **ENGINE_ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response | StreamingHttpResponse:
        serializer = MessageRegenerateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not _wants_stream(request, serializer.validated_data["stream"]):
            exchange = services.message_regenerate(user=request.user, reply_id=pk)
            return _exchange_response(exchange, status.HTTP_200_OK)
        exchange, events = services.message_regenerate_stream(user=request.user, reply_id=pk)
        return _stream_response(request, exchange, events, first=exchange.reply)


class MessageSelectView(APIView):
    """Pick which of a reply's alternatives is shown and counts."""

    throttle_scope = "chat"

    @extend_schema(
        summary="Select an alternative of a reply",
        description=(
            "Its text becomes the reply's `content`: the one prompts, memory and search "
            "use. An index out of range is a 400."
        ),
        request=MessageSelectInputSerializer,
        responses={
            200: ChatMessageSerializer,
            404: NO_SUCH_MESSAGE,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = MessageSelectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_select(
            user=request.user, message_id=pk, index=serializer.validated_data["index"]
        )
        return Response(ChatMessageSerializer(message).data)


class MessageDetailView(APIView):
    """One of your messages: read it, change its text, delete it."""

    throttle_scope = "chat"

    @extend_schema(
        summary="Get a message",
        responses={200: ChatMessageSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        message = selectors.message_get_visible(user=request.user, pk=pk)
        return Response(ChatMessageSerializer(message).data)

    @extend_schema(
        summary="Edit a message",
        description=(
            "Changes the text of your message or of the persona's reply (its selected "
            "alternative). What memory learned from an edited message of yours is learned "
            "again from the new text. A reply still being written or one that failed is a 400."
        ),
        request=MessageEditInputSerializer,
        responses={
            200: ChatMessageSerializer,
            404: NO_SUCH_MESSAGE,
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        serializer = MessageEditInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_edit(
            user=request.user, message_id=pk, text=serializer.validated_data["content"]
        )
        return Response(ChatMessageSerializer(message).data)

    @extend_schema(
        summary="Delete a message",
        description=(
            "Memories that came only from it are forgotten; those that came from other "
            "messages too keep those. A reply to it stays."
        ),
        request=None,
        responses={204: None, 404: ErrorSerializer},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.message_delete(user=request.user, message_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _with_message_count(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Annotate each conversation's `message_count` with a subquery, not a join.

    A join would group every message of the listed conversations, and the paginator's
    COUNT would do it again; a subquery counts only the page's rows, and COUNT leaves it out.
    """
    counted = (
        ChatMessage.objects.filter(conversation=OuterRef("pk"))
        .order_by()
        .values("conversation")
        .annotate(n=Count("*"))
        .values("n")
    )
    return conversations.annotate(
        message_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0)
    )


class PersonaConversationViewSet(
    PersonaScopedMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """A persona's conversations with you."""

    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination
    throttle_scope: str | None = None  # "conversations" on create

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        if self.action == "create":
            self.throttle_scope = "conversations"
        super().initial(request, *args, **kwargs)

    def scoped_queryset(
        self, user: object, parent: PersonaProfile | None = None
    ) -> QuerySet[Conversation]:
        return _with_message_count(selectors.conversation_list(user=user, persona=parent))

    @extend_schema(summary="List your conversations with a persona")
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        # A hot read: cached per caller and persona (the persona was resolved, so seen, in
        # initial()) until one of the caller's conversations or messages changes (chat.cache).
        return cached_read(
            request,
            key=["chat:conversations", request.user.pk, self.persona.pk],
            depends_on=[chat_version(request.user.pk)],
            build=lambda: (
                super(PersonaConversationViewSet, self).list(request, *args, **kwargs).data
            ),
        )

    @extend_schema(
        summary="Start a new conversation",
        description=(
            "It opens with the persona's greeting. Throttled with conversations "
            "(`THROTTLE_CONVERSATIONS`)."
        ),
        request=ConversationInputSerializer,
        responses={201: ConversationSerializer, 429: ErrorSerializer},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = ConversationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = services.conversation_start(
            user=request.user,
            persona=self.persona,
            title=serializer.validated_data.get("title", ""),
        )
        conversation.message_count = conversation.messages.count()
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationViewSet(
    ScopedQuerysetMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """One of your conversations and its messages."""

    serializer_class = ConversationSerializer
    pagination_class = None
    # A rename changes the title alone: PATCH, never a whole PUT.
    http_method_names = ["get", "patch", "delete", "head", "options"]
    throttle_scope: str | None = None  # set per action on the costly ones (export)

    def scoped_queryset(self, user: object) -> QuerySet[Conversation]:
        conversations = selectors.conversation_list_visible(user=user)
        if getattr(self, "action", None) == "messages":
            return conversations  # the history page shows messages, not their count
        return _with_message_count(conversations)

    @extend_schema(summary="Get a conversation")
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return super().retrieve(request, pk=pk)

    @extend_schema(
        summary="Rename a conversation",
        description="Only the title changes; it is one line and not empty.",
        request=ConversationRenameSerializer,
        responses={200: ConversationSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        conversation = self.get_object()
        serializer = ConversationRenameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = services.conversation_rename(
            conversation=conversation, title=serializer.validated_data["title"]
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Delete a conversation and its messages",
        description=(
            "Memories that came only from its messages are forgotten too (their history "
            "keeps the deletion); memories with other sources stay."
        ),
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.conversation_delete(conversation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Export a conversation as a SillyTavern chat",
        description=(
            "A `.jsonl` file: the first line is the chat's metadata (`user_name`, "
            "`character_name`, `create_date`), then one line per message with `name`, "
            "`is_user`, `is_system`, `send_date` (ISO 8601, UTC) and `mes`. SillyTavern "
            "opens it, and `history/import/` reads it back."
        ),
        responses={
            (200, "application/jsonl"): OpenApiResponse(
                OpenApiTypes.STR, description="The chat, one JSON object per line."
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, JSONLinesRenderer],
        throttle_scope="uploads",
    )
    def export(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        conversation = self.get_object()
        # Under ASGI an async iterator: Django would otherwise buffer a sync one whole.
        export = (
            services.history_aexport
            if isinstance(request._request, ASGIRequest)
            else services.history_export
        )
        response = StreamingHttpResponse(
            export(user=request.user, conversation=conversation),
            content_type="application/jsonl; charset=utf-8",
        )
        name = services.history_export_name(conversation=conversation)
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response

    @extend_schema(
        summary="Read a conversation's messages",
        description=(
            "Cursor-paginated, newest page first; each page is oldest to newest. "
            "Follow `next` for older messages."
        ),
        responses=ChatMessageSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=ChatMessageSerializer,
        pagination_class=MessageCursorPagination,
    )
    def messages(self, request: Request, pk: str | None = None) -> Response:
        # The hot read: cached per caller and conversation until one of the caller's
        # conversations or messages changes (chat.cache), or a persona they see does (its
        # conversations may no longer be theirs to see). Built, so checked, on a miss.
        return cached_read(
            request,
            key=["chat:history", request.user.pk, pk],
            depends_on=[chat_version(request.user.pk), *persona_versions(request.user)],
            build=lambda: self._messages_data(request),
        )

    def _messages_data(self, request: Request) -> dict:
        conversation = self.get_object()
        paginator = MessageCursorPagination()
        page = paginator.paginate_queryset(
            selectors.message_list(user=request.user, conversation=conversation), request, view=self
        )
        return paginator.get_paginated_response(ChatMessageSerializer(page, many=True).data).data


class HistoryImportViewSet(PersonaScopedMixin, viewsets.GenericViewSet):
    """Bring past messages with a persona into MyBella."""

    parser_classes = [StrictJSONParser, MultiPartParser]
    throttle_scope = "uploads"
    serializer_class = HistoryImportSerializer

    def scoped_queryset(
        self, user: object, parent: PersonaProfile | None = None
    ) -> QuerySet[Conversation]:
        # What an import adds to: the pair's conversations.
        return selectors.conversation_list(user=user, persona=parent)

    @extend_schema(
        summary="Import past messages with a persona",
        description=(
            "Stores them in a new conversation without calling a model; memories are then "
            "extracted from them. Send a JSON list of `{role, content, created_at}`, or a "
            "multipart `file`: that list as .json, or a SillyTavern chat .jsonl."
        ),
        request={
            "application/json": HistoryItemSerializer(many=True),
            "multipart/form-data": HistoryImportSerializer,
        },
        responses={201: HistoryImportResultSerializer},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        if request.content_type.startswith("multipart/"):
            serializer = HistoryImportSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            raw = serializer.validated_data["file"].read()
        else:
            raw = request.data
        items = services.history_parse(raw)
        conversation = services.history_import(user=request.user, persona=self.persona, items=items)
        conversation.message_count = len(items)
        return Response(
            {"conversation": ConversationSerializer(conversation).data, "imported": len(items)},
            status=status.HTTP_201_CREATED,
        )
