"""Show a service's domain errors on a page: on the form's fields, or as one message.

A page view calls a service and catches `DOMAIN_ERRORS`; `add_domain_error` puts the error
on the bound form it is about to render again, `error_message` gives the text for
`django.contrib.messages` when there is no form.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from mybella.core.errors import NotFound, UpstreamError

# What a service may raise for the caller to show, for `except DOMAIN_ERRORS as error:`.
DOMAIN_ERRORS = (ValidationError, PermissionDenied, NotFound, UpstreamError)

DomainError = ValidationError | PermissionDenied | NotFound | UpstreamError


def error_message(error: DomainError) -> str:
    """Return the text a user reads for `error`."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, NotFound | UpstreamError):
        return error.message
    if isinstance(error, PermissionDenied):
        return str(error) or _("You may not change this.")
    raise TypeError(f"Not a domain error: {error!r}")


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Add `error` to `form`: a field's errors to that field, everything else to the form.

    Errors about fields the form does not show (a model field set by the service, say)
    become non-field errors, so none is lost.
    """
    if not isinstance(error, ValidationError):
        form.add_error(None, error_message(error))
    elif hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.error_list)
