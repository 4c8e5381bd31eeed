"""ASGI entry point: `uvicorn mybella.asgi:application`."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mybella.settings")

application = get_asgi_application()

from mybella.core.security import refuse_dev_secret_key  # noqa: E402 - settings first

refuse_dev_secret_key()
