"""Reply engines for chat: the offline one and OpenAI-compatible APIs, chosen by settings."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mybella.providers.llm.base import ChatProvider, Prompt, ProviderError, RecalledItem
from mybella.providers.llm.offline import OfflineProvider

__all__ = [
    "ChatProvider",
    "OfflineProvider",
    "Prompt",
    "ProviderError",
    "RecalledItem",
    "get_provider",
]


def get_provider() -> ChatProvider:
    """Return the reply engine the settings ask for.

    LLM_PROVIDER "offline" or "openai" decides; when it is empty, use the OpenAI-compatible
    engine if LLM_BASE_URL or LLM_API_KEY is set, and the offline engine otherwise.
    """
    choice = settings.LLM_PROVIDER.strip().lower()
    if not choice:
        choice = "openai" if settings.LLM_BASE_URL or settings.LLM_API_KEY else "offline"
    if choice == "offline":
        return OfflineProvider()
    if choice == "openai":
        # Imported here so the offline engine never pays for loading the SDK.
        from mybella.providers.llm.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider()
    raise ImproperlyConfigured(
        f"LLM_PROVIDER must be 'offline', 'openai' or empty, not {settings.LLM_PROVIDER!r}."
    )
