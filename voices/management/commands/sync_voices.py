from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mybella.providers.speech import SpeechError
from voices.services import preset_sync


class Command(BaseCommand):
    help = (
        "Copy the ElevenLabs account's voices into voice presets; presets it no longer "
        "lists are withdrawn unless a persona uses them."
    )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.ELEVENLABS_API_KEY:
            self.stdout.write("ELEVENLABS_API_KEY is not set, so there is nothing to sync.")
            return
        from mybella.providers.speech.elevenlabs import ElevenLabsEngine

        try:
            result = preset_sync(engine=ElevenLabsEngine())
        except SpeechError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Voices synced: {result.created} new, {result.updated} updated, "
                f"{result.deactivated} withdrawn, {result.skipped} cloned skipped."
            )
        )
