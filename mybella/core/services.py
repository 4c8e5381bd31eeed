"""Building blocks of the apps' services: one way to update a model, and a service marker."""

import functools
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

M = TypeVar("M", bound=models.Model)
P = ParamSpec("P")
R = TypeVar("R")

_service_calls: ContextVar[int] = ContextVar("service_calls", default=0)


def service(func: Callable[P, R]) -> Callable[P, R]:
    """Mark `func` as a service: each call is counted, so a test can tell that a request
    wrote through a service (see `service_calls`)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _service_calls.set(_service_calls.get() + 1)
        return func(*args, **kwargs)

    return wrapper


def service_calls() -> int:
    """Return how many `@service` calls the current context has made so far."""
    return _service_calls.get()


def _differs(instance: models.Model, field: models.Field, name: str, value: object) -> bool:
    """Say whether setting `name` to `value` would change `instance`, without a query."""
    if field.is_relation and name == field.name:
        # Compare a foreign key by id: reading `instance.<fk>` could hit the database.
        current = getattr(instance, field.attname)
        return current != (value.pk if isinstance(value, models.Model) else value)
    return getattr(instance, name) != value


def _validate(instance: models.Model, changed: list[str]) -> None:
    """Validate what changed: those fields' own rules, then `clean()`, unique checks and
    constraints in full.

    Only the changed fields' validators run, so a stored value that a newer rule would
    refuse does not block an unrelated change; the checks across fields always run.
    """
    opts = instance._meta
    changed_names = {opts.get_field(name).name for name in changed}
    unchanged = {field.name for field in opts.concrete_fields} - changed_names
    errors: dict = {}
    for check, kwargs in (
        (instance.clean_fields, {"exclude": unchanged}),
        (instance.clean, {}),
    ):
        try:
            check(**kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    failed = set(errors) - {NON_FIELD_ERRORS}
    for check in (instance.validate_unique, instance.validate_constraints):
        try:
            check(exclude=failed)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def model_update(
    *, instance: M, fields: Iterable[str], data: Mapping[str, object]
) -> tuple[M, bool]:
    """Set the `fields` given in `data` on `instance` and save only those that changed.

    Return `(instance, changed)`. When nothing differs, nothing is validated or saved and
    no query runs. Otherwise the instance is validated (a `ValidationError` leaves it as it
    was, in the database and in memory) and saved with `update_fields`, plus `updated_at`
    when the model has one. Keys of `data` outside `fields` are refused: they are a
    mistake of the caller, never input to drop silently.
    """
    allowed = set(fields)
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"model_update: {sorted(unknown)} are not among the fields to update.")
    opts = instance._meta
    changed: list[str] = []
    previous: dict[str, object] = {}
    for name, value in data.items():
        field = opts.get_field(name)
        if field.many_to_many or not field.concrete:
            raise ValueError(f"model_update sets plain and foreign-key fields, not {name!r}.")
        if _differs(instance, field, name, value):
            previous[field.attname] = getattr(instance, field.attname)
            setattr(instance, name, value)
            changed.append(name)
    if not changed:
        return instance, False
    try:
        _validate(instance, changed)
    except ValidationError:
        for attname, value in previous.items():
            setattr(instance, attname, value)
        raise
    update_fields = list(changed)
    if any(field.name == "updated_at" for field in opts.concrete_fields):
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    return instance, True
