from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from chat.selectors import MESSAGE_INDEX
from memory.selectors import MEMORY_INDEX
from mybella.core.fulltext import MERGE_PAGES, merge_index


class Command(BaseCommand):
    help = (
        "Merge the full-text indexes of messages and memories into one segment each "
        "(SQLite; nothing to do on PostgreSQL): a search then reads each term once. "
        "Run it from time to time, e.g. nightly, and after a large import."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--pages",
            type=int,
            default=MERGE_PAGES,
            help=f"Pages merged per step, one short transaction each (default {MERGE_PAGES}).",
        )

    def handle(self, *args: object, pages: int = MERGE_PAGES, **options: object) -> None:
        for index in (MESSAGE_INDEX, MEMORY_INDEX):
            steps = merge_index(index, pages=pages)
            self.stdout.write(f"{index.fts_table}: {steps} merge steps.")
