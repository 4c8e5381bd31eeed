"""`Authorization: Token <key>` (or `Bearer <key>`) against hashed, expiring API tokens."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from mybella.users.models import ApiToken, User

# Record a token's last use at most this often: reads should not all become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(BaseAuthentication):
    """Find the token by the hash of the key sent; refuse it once expired or its user is off.

    The key comes after `Token` (DRF's word) or `Bearer` (what many REST clients send), in
    any case; a header with another scheme is left to the next authentication class.
    """

    keyword = "Token"
    keywords = {b"token": "Token", b"bearer": "Bearer"}

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: send `%(keyword)s <key>`, the key without spaces.")
                % {"keyword": self.keywords[parts[0].lower()]}
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(digest=ApiToken.hash(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                _("Token expired; get a new one from /api/v1/auth/token/.")
            )
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describe `Authorization: Token <key>` or `Bearer <key>` in the schema.

    One scheme of the whole header (OpenAPI's `http` bearer scheme would allow `Bearer`
    alone), as drf-spectacular describes DRF's `Token`.
    """

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An API token (from `POST /api/v1/auth/token/`) as the whole header's value: "
                "`Token <key>` or `Bearer <key>` (either word, in any case)."
            ),
        }
