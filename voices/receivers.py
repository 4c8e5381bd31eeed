"""Connect the voices services' signals to the tasks that do the work.

Imported once, from the app's `AppConfig.ready()`.
"""

from typing import Any

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
