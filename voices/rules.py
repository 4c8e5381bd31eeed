"""How a persona's voice may be shaped: the ranges of its settings and their defaults.

The model's validators and check constraint, the page's form and the API's serializers
all read them from here.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# setting: (lowest, highest, default)
VOICE_SETTINGS: dict[str, tuple[float, float, float]] = {
    "stability": (0.0, 1.0, 0.5),
    "similarity": (0.0, 1.0, 0.75),
    "style": (0.0, 1.0, 0.0),
    "speed": (0.7, 1.2, 1.0),
}
DEFAULT_MODEL_ID = "eleven_multilingual_v2"
MODEL_ID_MAX_CHARS = 50
MODEL_ID_PATTERN = r"^[a-z0-9_]+$"
RANGES_MESSAGE = _("Stability, similarity and style go from 0 to 1; speed from 0.7 to 1.2.")


def setting_bounds(name: str) -> dict[str, float]:
    """Return the `min_value`/`max_value` keywords of form and serializer fields for `name`."""
    low, high, _default = VOICE_SETTINGS[name]
    return {"min_value": low, "max_value": high}


def setting_validators(name: str) -> list:
    """Return the model field validators of setting `name`."""
    low, high, _default = VOICE_SETTINGS[name]
    return [MinValueValidator(low), MaxValueValidator(high)]


def settings_in_range() -> Q:
    """Return the condition of the check constraint: every setting within its range."""
    condition = Q()
    for name, (low, high, _default) in VOICE_SETTINGS.items():
        condition &= Q(**{f"{name}__gte": low, f"{name}__lte": high})
    return condition
