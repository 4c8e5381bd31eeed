from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from memory.services import search_indexes_merge
from mybella.core.fulltext import MERGE_PAGES


class Command(BaseCommand):
    help = (
        "Merge the full-text indexes of messages and memories into one segment each "
        "(SQLite; nothing to do on PostgreSQL): a search then reads each term once. "
        "Run it from time to time, e.g. nightly; an imported history's extraction queues it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--pages",
            type=int,
            default=MERGE_PAGES,
            help=f"Pages merged per step, one short transaction each (default {MERGE_PAGES}).",
        )

    def handle(self, *args: object, pages: int = MERGE_PAGES, **options: object) -> None:
        for table, steps in search_indexes_merge(pages=pages).items():
            self.stdout.write(f"{table}: {steps} merge steps.")
