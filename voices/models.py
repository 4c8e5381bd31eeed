import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from mybella.core.models import BaseModel
from mybella.core.storage import private_storage
from voices import rules


class VoicePreset(BaseModel):
    """A ready-made voice of a speech provider, curated by staff."""

    class Gender(models.TextChoices):
        """The genders a provider gives its voices in `labels["gender"]`."""

        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        NEUTRAL = "neutral", _("Neutral")

    provider = models.CharField(_("provider"), max_length=20, default="elevenlabs")
    provider_voice_id = models.CharField(_("provider voice id"), max_length=64)
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    labels = models.JSONField(
        _("labels"),
        default=dict,
        blank=True,
        help_text=_("gender, accent, age, use case, … as the provider describes the voice."),
    )
    preview_url = models.URLField(_("preview URL"), max_length=500, blank=True)
    is_legacy = models.BooleanField(
        _("legacy"), default=False, help_text=_("A voice the provider no longer features.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("voice preset")
        verbose_name_plural = _("voice presets")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_voice_id"], name="voicepreset_unique_provider_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def voice_sample_upload_to(instance: "CustomVoice", filename: str) -> str:
    """Store every sample under a fresh random name, never the user's file name."""
    extension = instance.format or "bin"
    return f"voice-samples/{uuid.uuid4().hex}.{extension}"


def speech_upload_to(instance: "SpeechClip", filename: str) -> str:
    """Store every clip under a fresh random name: never one made from what it says.

    A name derived from the text (or its hash) would let anyone who guesses a sentence
    check whether somebody had it spoken.
    """
    extension = filename.rpartition(".")[2] if "." in filename else ""
    if not (extension.isascii() and extension.isalnum() and len(extension) <= 4):
        extension = "bin"
    return f"speech/{uuid.uuid4().hex}.{extension}"


class CustomVoice(BaseModel):
    """A voice cloned from a sample a user uploaded."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        CLONING = "cloning", _("Cloning")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        # Uploaded where there is no ElevenLabs key: kept, not counted against the limit,
        # and queued by `manage.py clone_waiting_voices` once a key is set.
        WAITING = "waiting", _("Waiting for a key")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="custom_voices",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    sample = models.FileField(
        _("sample"), upload_to=voice_sample_upload_to, storage=private_storage
    )
    format = models.CharField(_("format"), max_length=10, help_text=_("Detected from content."))
    content_type = models.CharField(_("content type"), max_length=50)
    duration = models.FloatField(_("duration (s)"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    provider_voice_id = models.CharField(_("provider voice id"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("cloning attempts"), default=0)

    class Meta:
        verbose_name = _("custom voice")
        verbose_name_plural = _("custom voices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "owner", Lower("name"), name="customvoice_unique_name_per_owner"
            ),
            models.CheckConstraint(
                condition=Q(status="ready", provider_voice_id__gt="") | ~Q(status="ready"),
                name="customvoice_ready_has_provider_id",
            ),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="customvoice_owner_status_idx")]

    def __str__(self) -> str:
        return self.name


class SpeechClip(BaseModel):
    """Synthesized speech kept for reuse, keyed by everything that shapes the audio."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="speech_clips",
        verbose_name=_("owner"),
        help_text=_(
            "Whose speech this is; empty for speech any user may hear (greetings, previews)."
        ),
    )
    audio = models.FileField(_("audio"), upload_to=speech_upload_to, storage=private_storage)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    engine = models.CharField(_("engine"), max_length=20)
    last_used_at = models.DateTimeField(_("last used"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("speech clip")
        verbose_name_plural = _("speech clips")

    def __str__(self) -> str:
        return self.key


def _setting(name: str, label: str) -> models.FloatField:
    return models.FloatField(
        label, default=rules.VOICE_SETTINGS[name][2], validators=rules.setting_validators(name)
    )


class PersonaVoice(BaseModel):
    """How a persona sounds: its preset, its owner's cloned voice, and how both are shaped.

    A persona without a row speaks with the defaults (`voices.rules`). That a cloned voice
    is only on its owner's custom persona, and never one whose cloning failed, is the
    rule of `persona_voice_set`: a check constraint cannot look across tables.
    """

    persona = models.OneToOneField(
        "personas.PersonaProfile",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="voice",
        verbose_name=_("persona"),
    )
    preset = models.ForeignKey(
        VoicePreset,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="persona_voices",
        verbose_name=_("voice preset"),
    )
    custom_voice = models.ForeignKey(
        CustomVoice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="persona_voices",
        verbose_name=_("custom voice"),
        help_text=_("One of the owner's own cloned voices; used before the preset when ready."),
    )
    stability = _setting("stability", _("stability"))
    similarity = _setting("similarity", _("similarity"))
    style = _setting("style", _("style"))
    speed = _setting("speed", _("speed"))
    model_id = models.CharField(
        _("voice model"), max_length=rules.MODEL_ID_MAX_CHARS, default=rules.DEFAULT_MODEL_ID
    )

    class Meta:
        verbose_name = _("persona voice")
        verbose_name_plural = _("persona voices")
        constraints = [
            models.CheckConstraint(
                condition=rules.settings_in_range(),
                name="personavoice_settings_in_range",
                violation_error_message=rules.RANGES_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        return f"Voice of {self.persona_id}"
