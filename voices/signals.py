"""What the voices services ask for in the background, as signals sent on commit.

Services never import tasks (tasks import services); `voices.receivers` connects each
signal to the task that does the work.
"""

from django.dispatch import Signal

# A custom voice waits for cloning. Sent with `voice_id: int`.
custom_voice_queued = Signal()

# A cloned voice was deleted here; its copy at the provider is to go too. Sent with
# `provider_voice_id: str`.
provider_voice_released = Signal()
