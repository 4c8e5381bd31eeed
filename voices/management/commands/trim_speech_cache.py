from argparse import ArgumentParser

from django.conf import settings
from django.core.management.base import BaseCommand

from voices.services import speech_cache_trim


class Command(BaseCommand):
    help = "Delete the least recently used speech clips until the cache fits its limit."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="The limit (default: SPEECH_CACHE_MAX_BYTES).",
        )

    def handle(self, *args: object, max_bytes: int | None = None, **options: object) -> None:
        limit = settings.SPEECH_CACHE_MAX_BYTES if max_bytes is None else max_bytes
        deleted, freed = speech_cache_trim(max_bytes=max(0, limit))
        self.stdout.write(f"Deleted {deleted} speech clips ({freed} bytes).")
