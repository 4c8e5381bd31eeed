"""WSGI entry point: `gunicorn mybella.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mybella.settings")

application = get_wsgi_application()

from mybella.core.checks import refuse_unshared_cache  # noqa: E402 - settings first
from mybella.core.security import refuse_dev_secret_key  # noqa: E402

refuse_dev_secret_key()
refuse_unshared_cache()
