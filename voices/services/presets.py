"""Writes of voice presets: the provider's sync, and staff curating them."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from mybella.core.services import service
from mybella.providers.speech import SpeechEngine
from personas.cache import personas_changed
from voices import selectors
from voices.models import VoicePreset


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int
    deactivated: int
    skipped: int


@service
@transaction.atomic
def preset_sync(*, engine: SpeechEngine) -> SyncResult:
    """Copy the provider's voices into presets; retire the ones it no longer lists.

    Cloned voices (users' own) are skipped. A retired preset some persona still uses stays
    active; staff's choice to deactivate a preset survives a sync (it never activates one).
    """
    cloned = selectors.cloned_provider_ids()
    existing = selectors.presets_of(provider=engine.name)
    seen, created, updated, skipped = set(), 0, 0, 0
    for voice in engine.list_voices():
        if voice["category"] == "cloned" or voice["voice_id"] in cloned:
            skipped += 1
            continue
        seen.add(voice["voice_id"])
        fields = {
            "name": voice["name"][:80],
            "description": voice["description"],
            "labels": voice["labels"],
            "preview_url": voice["preview_url"][:500],
            "is_legacy": voice["is_legacy"],
        }
        preset = existing.get(voice["voice_id"])
        if preset is None:
            VoicePreset.objects.create(
                provider=engine.name, provider_voice_id=voice["voice_id"], **fields
            )
            created += 1
        elif any(getattr(preset, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(preset, name, value)
            preset.save()
            updated += 1
    retired = (
        VoicePreset.objects.filter(provider=engine.name, is_active=True)
        .exclude(provider_voice_id__in=seen)
        .exclude(pk__in=selectors.presets_in_use().values("pk"))
    )
    deactivated = retired.update(is_active=False, updated_at=timezone.now())
    if deactivated:  # an update sends no signal: the voices on offer changed
        personas_changed()
    return SyncResult(created, updated, deactivated, skipped)


@service
@transaction.atomic
def preset_set_active(*, presets: QuerySet[VoicePreset], active: bool) -> int:
    """Offer `presets` to users (`active`) or withdraw them; return how many changed.

    A withdrawn preset stays with the personas that use it, who speak with the default
    voice meanwhile; a sync never offers it again.
    """
    changing = presets.exclude(is_active=active)
    changed = changing.update(is_active=active, updated_at=timezone.now())
    if changed:  # an update sends no signal: the voices on offer changed
        personas_changed()
    return changed


@service
@transaction.atomic
def preset_save(*, preset: VoicePreset) -> VoicePreset:
    """Create or change a preset as staff edited it."""
    preset.full_clean()
    preset.save()
    return preset


@service
@transaction.atomic
def preset_delete(*, presets: Iterable[VoicePreset]) -> int:
    """Delete `presets`; personas using one speak with the default voice. Return how many."""
    _total, deleted = VoicePreset.objects.filter(pk__in=[p.pk for p in presets]).delete()
    return deleted.get(VoicePreset._meta.label, 0)
