"""Reads of accounts."""

from django.db.models import QuerySet
from django.utils import timezone

from mybella.users.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """Return the user's API tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by(
        "-created_at", "-id"
    )
