from typing import Any

from whitenoise.runserver_nostatic.management.commands.runserver import Command as BaseCommand

from mybella.core.security import refuse_dev_secret_key


class Command(BaseCommand):
    """Django's runserver (without static serving: WhiteNoise does it), refusing a dev key."""

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_dev_secret_key()
        super().handle(*args, **options)
