"""Make every API error a JSON answer, never an HTML page."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from mybella.core.errors import NotFound, UpstreamError

logger = logging.getLogger(__name__)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def _refused_request(exc: SuspiciousOperation) -> exceptions.APIException:
    """Answer what Django refused to read while the request was being parsed."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestTooLarge(
            f"The request body is too large: at most {limit / 2**20:g} MB outside of file "
            "uploads. Send files as multipart/form-data."
        )
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ParseError(
            f"The request has too many fields (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})."
        )
    if isinstance(exc, TooManyFilesSent):
        return exceptions.ParseError(
            f"The request has too many files (at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES})."
        )
    return exceptions.ParseError("The request could not be read.")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Answer DRF's own errors as usual and turn anything else into JSON."""
    if isinstance(exc, Http404 | NotFound):
        # Say the same for "missing" and "someone else's": neither reveals anything.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            {
                ("non_field_errors" if field == "__all__" else field): errors
                for field, errors in exc.message_dict.items()
            }
            if hasattr(exc, "error_dict")
            else {"detail": " ".join(exc.messages)}
        )
    elif isinstance(exc, SuspiciousOperation):
        logger.info("Refused API request: %s", exc)
        exc = _refused_request(exc)
    elif isinstance(exc, IntegrityError):
        # A database constraint caught what validation could not (a race, usually).
        logger.info("Integrity error in API view: %s", exc)
        exc = exceptions.ValidationError({"detail": "This conflicts with existing data."})
    elif isinstance(exc, UpstreamError):
        set_rollback()
        return Response(
            {"detail": exc.message}, status=exc.status_code, headers=upstream_headers(exc)
        )
    response = exception_handler(exc, context)
    if response is not None:
        return response
    logger.exception("Unhandled error in API view", exc_info=exc)
    return Response(
        {"detail": "Something went wrong on our side. Please try again."},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def upstream_headers(error: UpstreamError) -> dict[str, str]:
    """Return the headers an answer to `error` carries: Retry-After when the remote said."""
    return {"Retry-After": str(error.retry_after)} if error.retry_after else {}
