"""ASGI entry point: `uvicorn mybella.asgi:application`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mybella.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application()

from mybella.core.asgi import ThreadKeepingASGIHandler  # noqa: E402 - settings first

django_application = ThreadKeepingASGIHandler()

from mybella.core.checks import refuse_unshared_cache  # noqa: E402 - settings first
from mybella.core.middleware import RequestSizeLimitASGI  # noqa: E402
from mybella.core.security import refuse_dev_secret_key  # noqa: E402
from mybella.providers.llm import get_provider  # noqa: E402

refuse_dev_secret_key()
refuse_unshared_cache()
# Load the reply engine now: the model SDK takes seconds to import (more on a busy machine),
# better paid when the process starts than by the first person waiting for a reply.
get_provider()

# Django's ASGI handler reads the whole body before any middleware runs: limit it in front.
application = RequestSizeLimitASGI(django_application)
