from django.core.management.base import BaseCommand

from mybella.providers.speech import cloning_available
from voices.services import custom_voices_queue_waiting


class Command(BaseCommand):
    help = (
        "Queue the uploaded voices that wait for an ElevenLabs key for cloning, once "
        "ELEVENLABS_API_KEY is set (`make run` runs it at each start)."
    )

    def handle(self, *args: object, **options: object) -> None:
        if not cloning_available():
            self.stdout.write("No ELEVENLABS_API_KEY: the waiting voices keep waiting.")
            return
        queued = custom_voices_queue_waiting()
        self.stdout.write(f"Queued {queued} waiting voices for cloning.")
