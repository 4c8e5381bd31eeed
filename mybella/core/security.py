"""Guards that keep a misconfigured server from starting."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_dev_secret_key() -> None:
    """Refuse to serve with the development SECRET_KEY while DEBUG is off."""
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is the development default while DEBUG is off. "
            "Set SECRET_KEY to a long random value (or DEBUG=true on a development machine)."
        )
