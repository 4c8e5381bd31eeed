import logging
from collections.abc import Iterator

import django_filters
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.functional import lazy
from django.utils.text import format_lazy, slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mybella.core import limits
from mybella.core.api import ScopedQuerysetMixin
from mybella.providers.speech import SpeechError
from personas.api.scoping import PersonaScopedMixin
from voices import selectors, services
from voices.api.serializers import (
    CustomVoiceInputSerializer,
    CustomVoiceSerializer,
    ErrorSerializer,
    MessageSentencesSerializer,
    PersonaVoiceInputSerializer,
    PersonaVoiceSerializer,
    SpeakInputSerializer,
    SpeakSentenceInputSerializer,
    VoicePresetSerializer,
)
from voices.audio import sample_help_text
from voices.models import CustomVoice, SpeechClip, VoicePreset

logger = logging.getLogger(__name__)

AUDIO_RESPONSES = {
    (200, "audio/mpeg"): OpenApiTypes.BINARY,
    (200, "audio/wav"): OpenApiTypes.BINARY,
    429: ErrorSerializer,
    502: ErrorSerializer,
    503: OpenApiResponse(ErrorSerializer, description="No speech engine on the server."),
    504: ErrorSerializer,
}


class AudioNegotiation(DefaultContentNegotiation):
    """Answer `Accept: audio/*` too: audio comes back as itself, errors as JSON."""

    def select_renderer(self, request: Request, renderers: list, format_suffix: str = "") -> tuple:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:  # an <audio> element asking for audio only
            return renderers[0], renderers[0].media_type


def _logged(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass chunks on; a failure once audio has started can only end it early."""
    try:
        yield from chunks
    except SpeechError as error:
        logger.warning("Speech stream broke off: %s", error.message)


def clip_response(clip: SpeechClip) -> FileResponse:
    response = FileResponse(clip.audio.open("rb"), content_type=clip.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Speech-Cache"] = "hit" if getattr(clip, "cache_hit", False) else "miss"
    response["X-Speech-Engine"] = clip.engine
    return response


class PresetFilter(django_filters.FilterSet):
    gender = django_filters.ChoiceFilter(
        field_name="labels__gender",
        choices=VoicePreset.Gender.choices,
        help_text="Only voices of this gender.",
    )
    search = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        max_length=limits.SEARCH_QUERY_MAX_CHARS,
        help_text=f"Words in the name (at most {limits.SEARCH_QUERY_MAX_CHARS} characters).",
    )
    # true or false, nothing else: a BooleanFilter reads any other word as no filter at all.
    legacy = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_legacy",
        help_text="true: only the provider's legacy voices; false: only the current ones.",
    )

    class Meta:
        model = VoicePreset
        fields = ["gender", "search", "legacy"]

    def filter_legacy(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_legacy=value == "true")


@extend_schema_view(
    list=extend_schema(summary="List the voice presets"),
    retrieve=extend_schema(summary="Get a voice preset"),
)
class VoicePresetViewSet(
    ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Ready-made voices staff curate; personas use one unless a cloned voice is ready."""

    serializer_class = VoicePresetSerializer
    filterset_class = PresetFilter
    throttle_scope: str | None = None  # "speech" on the preview

    def scoped_queryset(self, user: object) -> QuerySet[VoicePreset]:
        return selectors.preset_list()

    @extend_schema(
        summary="Hear a voice preset",
        description=(
            "A short line in this voice, made by the server's speech engine (ElevenLabs, or "
            "espeak-ng without a key) and cached. 503 when the server has no engine."
        ),
        responses=AUDIO_RESPONSES,
    )
    @action(
        detail=True,
        methods=["get"],
        throttle_scope="speech",
        content_negotiation_class=AudioNegotiation,
        filterset_class=None,
    )
    def preview(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        return clip_response(services.preset_preview(self.get_object()))


@extend_schema_view(
    list=extend_schema(summary="List your cloned voices"),
    retrieve=extend_schema(summary="Get one of your cloned voices"),
    destroy=extend_schema(
        summary="Delete one of your cloned voices",
        description=(
            "Deleted here at once, whatever ElevenLabs does; its copy there is deleted in the "
            "background (tried again while ElevenLabs is down). Personas using it speak with "
            "their preset."
        ),
        responses={204: None, 404: ErrorSerializer},
    ),
)
class CustomVoiceViewSet(
    ScopedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Voices cloned from samples you uploaded; only yours, anyone else's is a 404."""

    serializer_class = CustomVoiceSerializer
    throttle_scope: str | None = None

    def scoped_queryset(self, user: object) -> QuerySet[CustomVoice]:
        return selectors.custom_voice_list(user=user)

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        if self.action == "create":
            self.throttle_scope = "uploads"
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Clone a voice from a sample",
        description=format_lazy(
            "Upload a `sample` and a `name`. The sample: {} It is checked by content, and "
            "the file name's extension must match. The voice starts `pending`; cloning runs "
            "in the background and ends `ready` or `failed` (with `error`). Without an "
            "ElevenLabs key on the server the voice is kept as `waiting` (it doesn't count "
            "against the limit) and is cloned once a key is set.",
            lazy(sample_help_text, str)(),
        ),
        request={"multipart/form-data": CustomVoiceInputSerializer},
        responses={201: CustomVoiceSerializer, 400: OpenApiTypes.OBJECT, 429: ErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        serializer = CustomVoiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        voice = services.custom_voice_create(
            owner=request.user, name=data["name"], upload=data["sample"]
        )
        voice.refresh_from_db()  # cloning may already have run (immediate task backend)
        return Response(self.get_serializer(voice).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.custom_voice_delete(voice=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Try cloning a failed voice again",
        description="Only a `failed` voice, and only when the server has an ElevenLabs key.",
        request=None,
        responses={200: CustomVoiceSerializer, 400: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], throttle_scope="uploads")
    def retry(self, request: Request, pk: str | None = None) -> Response:
        voice = services.custom_voice_retry(voice=self.get_object(), user=request.user)
        voice.refresh_from_db()
        return Response(self.get_serializer(voice).data)

    @extend_schema(
        summary="Download the sample you uploaded",
        responses={
            (200, "audio/mpeg"): OpenApiTypes.BINARY,
            (200, "audio/wav"): OpenApiTypes.BINARY,
            (200, "audio/ogg"): OpenApiTypes.BINARY,
            (200, "audio/mp4"): OpenApiTypes.BINARY,
            (200, "audio/flac"): OpenApiTypes.BINARY,
            404: ErrorSerializer,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AudioNegotiation)
    def sample(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        voice = self.get_object()
        try:
            sample = voice.sample.open("rb")
        except FileNotFoundError:
            return Response({"detail": "The sample file is missing."}, status=404)
        filename = f"{slugify(voice.name) or 'voice'}-sample.{voice.format}"
        response = FileResponse(
            sample, as_attachment=True, filename=filename, content_type=voice.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


@extend_schema_view(
    retrieve=extend_schema(summary="Get a persona's voice", responses=PersonaVoiceSerializer),
    update=extend_schema(
        summary="Choose a persona's voice",
        description=(
            "Your own personas (system personas: staff only, else 403). `custom_voice` must "
            "be one of your cloned voices (anyone else's is a 404) and not one whose cloning "
            "failed (400); while it is not ready the persona speaks with `voice_preset`. "
            "Fields left out keep their values."
        ),
        request=PersonaVoiceInputSerializer,
        responses={
            200: PersonaVoiceSerializer,
            400: OpenApiTypes.OBJECT,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    ),
)
class PersonaVoiceViewSet(PersonaScopedMixin, viewsets.ViewSet):
    """The voice a persona speaks with."""

    persona_select_related = selectors.PERSONA_VOICE_RELATED

    def retrieve(self, request: Request, persona_id: int) -> Response:
        return Response(PersonaVoiceSerializer(self.persona).data)

    def update(self, request: Request, persona_id: int) -> Response:
        serializer = PersonaVoiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The same input, saved the same way, as the persona's own "voice" section.
        services.persona_voice_set_from_input(
            persona=self.persona, user=request.user, data=serializer.validated_data
        )
        return Response(PersonaVoiceSerializer(self.persona).data)


class PersonaSpeechViewSet(PersonaScopedMixin, viewsets.ViewSet):
    """A persona saying something out loud."""

    throttle_scope = "speech"
    content_negotiation_class = AudioNegotiation
    persona_select_related = selectors.PERSONA_VOICE_RELATED

    @extend_schema(
        summary="Hear a persona say something",
        description=(
            "Speaks `text` (default: the persona's greeting) with the persona's voice: its "
            "cloned voice when ready, else its preset, else the default voice. Audio is "
            "cached, so saying the same thing again costs nothing. `X-Speech-Cache` says "
            "`hit` or `miss`. 503 when the server has no speech engine: use the browser's."
        ),
        request=SpeakInputSerializer,
        responses=AUDIO_RESPONSES,
    )
    def create(self, request: Request, persona_id: int) -> HttpResponseBase:
        serializer = SpeakInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        text, user = serializer.validated_data.get("text"), request.user
        if not serializer.validated_data["stream"]:
            return clip_response(services.speech_for_persona(self.persona, text, user=user))
        return speech_response(services.speech_stream_for_persona(self.persona, text, user=user))


class PersonaSentenceSpeechViewSet(PersonaSpeechViewSet):
    """A persona saying one sentence of a reply that is still arriving."""

    throttle_scope = "speech_sentence"

    @extend_schema(
        summary="Hear a persona say one sentence",
        description=(
            "Speaks one sentence (a `sentence` event of a streamed reply) as `speak` does, "
            "streamed: with ElevenLabs the first audio goes out as soon as it is made, and "
            "the whole is cached once sent. Throttled on its own "
            "(`THROTTLE_SPEECH_SENTENCES`, 250 a minute by default), so that speaking a "
            "long reply sentence by sentence doesn't use up `speak`'s rate; a sentence is "
            "at most 240 characters. 503 when the server has no speech engine."
        ),
        request=SpeakSentenceInputSerializer,
        responses={**AUDIO_RESPONSES, 400: OpenApiTypes.OBJECT, 404: ErrorSerializer},
    )
    def create(self, request: Request, persona_id: int) -> HttpResponseBase:
        serializer = SpeakSentenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        text = serializer.validated_data["text"]
        return speech_response(
            services.speech_stream_for_persona(self.persona, text, user=request.user)
        )


def speech_response(speech: services.Speech) -> StreamingHttpResponse:
    """Send speech as it comes. An engine failing before the first chunk has already raised
    (a JSON error); later, the audio can only end early."""
    response = StreamingHttpResponse(_logged(speech.chunks), content_type=speech.content_type)
    response["X-Speech-Cache"] = "hit" if speech.cache_hit else "miss"
    response["X-Speech-Engine"] = speech.engine
    response["Cache-Control"] = "private, max-age=86400"
    return response


class MessageAudioView(APIView):
    """A reply of the persona's, spoken."""

    throttle_scope = "speech"
    content_negotiation_class = AudioNegotiation

    @extend_schema(
        summary="Hear a reply",
        description=(
            "Speaks one of your persona's replies in its voice, as `speak` does (cached: "
            "`X-Speech-Cache` says `hit` or `miss`). A long reply is spoken up to the last "
            "whole sentence within the server's speech limit. Your own messages and replies "
            "still being written or that failed are a 400; another user's message is a 404. "
            "503 when the server has no speech engine: use the browser's."
        ),
        responses={**AUDIO_RESPONSES, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        message = selectors.message_for_speech(user=request.user, pk=pk)
        return clip_response(services.speech_for_message(message, user=request.user))


class MessageSentencesView(APIView):
    """A reply of the persona's, cut into the sentences it says."""

    throttle_scope = "speech"

    @extend_schema(
        summary="A reply's sentences, to speak one by one",
        description=(
            "What `audio` says, as sentences: the page speaks each with "
            "`personas/{id}/speak/sentence/`, the first while the rest are made, as it does "
            "the `sentence` events of a streamed reply. Your own messages and replies still "
            "being written or that failed are a 400; another user's message is a 404."
        ),
        responses={200: MessageSentencesSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        message = selectors.message_for_speech(user=request.user, pk=pk)
        sentences = services.message_sentences(message)
        return Response(MessageSentencesSerializer({"sentences": sentences}).data)
