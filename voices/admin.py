from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mybella.core.admin import BoundedSearchAdmin
from voices import services
from voices.models import CustomVoice, PersonaVoice, SpeechClip, VoicePreset


class GenderFilter(admin.SimpleListFilter):
    title = _("gender")
    parameter_name = "gender"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return VoicePreset.Gender.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(labels__gender=self.value())
        return queryset


# The personas speaking with each preset, with their owners, in one query per page.
PRESET_USERS = Prefetch(
    "persona_voices",
    queryset=PersonaVoice.objects.select_related("persona__owner").order_by("persona__name"),
)


@admin.register(VoicePreset)
class VoicePresetAdmin(BoundedSearchAdmin):
    """Staff curate the presets users choose from; `manage.py sync_voices` adds new ones."""

    list_display = [
        "name",
        "gender",
        "accent",
        "provider_voice_id",
        "used_by",
        "is_legacy",
        "is_active",
    ]
    list_filter = ["is_active", "is_legacy", GenderFilter, "provider"]
    search_fields = ["name", "description", "provider_voice_id"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["activate", "deactivate"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoicePreset]:
        return super().get_queryset(request).prefetch_related(PRESET_USERS)

    @admin.display(description=_("used by"))
    def used_by(self, preset: VoicePreset) -> str:
        """The personas that speak with the preset, by name (whose, for users' own)."""
        names = [
            voice.persona.name
            if voice.persona.owner is None
            else f"{voice.persona.name} ({voice.persona.owner})"
            for voice in preset.persona_voices.all()
        ]
        return ", ".join(names) or "—"

    @admin.display(description=_("gender"))
    def gender(self, preset: VoicePreset) -> str:
        return (preset.labels or {}).get("gender", "")

    @admin.display(description=_("accent"))
    def accent(self, preset: VoicePreset) -> str:
        return (preset.labels or {}).get("accent", "")

    def save_model(
        self, request: HttpRequest, obj: VoicePreset, form: forms.ModelForm, change: bool
    ) -> None:
        services.preset_save(preset=obj)

    def delete_model(self, request: HttpRequest, obj: VoicePreset) -> None:
        services.preset_delete(presets=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.preset_delete(presets=queryset)

    @admin.action(description=_("Offer the selected presets to users"))
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.preset_set_active(presets=queryset, active=True)
        self.message_user(
            request, ngettext("%d preset offered.", "%d presets offered.", count) % count
        )

    @admin.action(description=_("Stop offering the selected presets"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.preset_set_active(presets=queryset, active=False)
        self.message_user(
            request,
            ngettext(
                "%d preset withdrawn; personas using it speak with the default voice.",
                "%d presets withdrawn; personas using them speak with the default voice.",
                count,
            )
            % count,
            messages.WARNING,
        )


class ReadOnlyAdmin(BoundedSearchAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CustomVoice)
class CustomVoiceAdmin(ReadOnlyAdmin):
    """Users' cloned voices, shown to staff read-only; their samples stay private."""

    list_display = ["name", "owner", "status", "format", "duration", "size", "created_at"]
    list_filter = ["status", "format"]
    search_fields = ["name", "owner__username", "provider_voice_id"]
    list_select_related = ["owner"]
    # No `sample`: a user's recording isn't for staff to download.
    fields = [
        "name",
        "owner",
        "status",
        "error",
        "attempts",
        "provider_voice_id",
        "format",
        "content_type",
        "duration",
        "size",
        "sha256",
        "created_at",
        "updated_at",
    ]


@admin.register(SpeechClip)
class SpeechClipAdmin(ReadOnlyAdmin):
    """Synthesized speech kept for reuse; `manage.py trim_speech_cache` trims it."""

    list_display = ["key", "engine", "content_type", "size", "last_used_at", "created_at"]
    list_filter = ["engine"]
    search_fields = ["key"]
    fields = ["key", "engine", "content_type", "size", "last_used_at", "created_at"]
