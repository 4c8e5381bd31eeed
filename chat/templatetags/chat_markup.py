"""`{% load chat_markup %}`: `{{ text|message_html }}` shows a message as safe markdown."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from chat.rendering import render_message

register = template.Library()


@register.filter
def message_html(text: str) -> SafeString:
    """Return `text` rendered by `chat.rendering.render_message`, which sanitizes it."""
    return mark_safe(render_message(str(text or "")))  # noqa: S308 - nh3 sanitized it
