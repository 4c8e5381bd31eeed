"""Connect the voices services' signals to the tasks that do the work, and voices' models
to the personas' cache.

Imported once, from the app's `AppConfig.ready()`.
"""

from typing import Any

from django.db.models.signals import post_delete, post_save

from personas.cache import personas_changed
from voices import tasks
from voices.signals import custom_voice_queued, provider_voice_released


def enqueue_clone(sender: Any, *, voice_id: int, **kwargs: Any) -> None:
    """Queue the cloning of custom voice `voice_id`."""
    tasks.clone_custom_voice.enqueue(voice_id)


def enqueue_provider_deletion(sender: Any, *, provider_voice_id: str, **kwargs: Any) -> None:
    """Queue the deletion of a cloned voice at the provider."""
    tasks.delete_provider_voice.enqueue(provider_voice_id)


custom_voice_queued.connect(enqueue_clone, dispatch_uid="voices.enqueue_clone")
provider_voice_released.connect(
    enqueue_provider_deletion, dispatch_uid="voices.enqueue_provider_deletion"
)

# A persona's voice shows in the persona list, and the voices on offer in the persona page's
# dialogs: their changes make both stale. Deleting a preset or a clone sets personas' voices
# to NULL in SQL, without saving them. Updates in one statement: their services say so.
for _sender in ("voices.PersonaVoice", "voices.VoicePreset", "voices.CustomVoice"):
    post_save.connect(personas_changed, sender=_sender, dispatch_uid=f"voices-saved-{_sender}")
    post_delete.connect(personas_changed, sender=_sender, dispatch_uid=f"voices-deleted-{_sender}")
