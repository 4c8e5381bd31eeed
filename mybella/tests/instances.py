"""Assertions about model instances a hot path builds without the ORM's query building."""

from django.db.models import Model


def assert_same_instance(found: Model, expected: Model) -> None:
    """Assert `found` holds what the ORM's `expected` holds, field by field and type by type,
    and is a saved instance, as the ORM makes them."""
    fields = [field.attname for field in type(expected)._meta.concrete_fields]
    values = [(type(getattr(found, name)), getattr(found, name)) for name in fields]
    assert values == [(type(getattr(expected, name)), getattr(expected, name)) for name in fields]
    assert not found._state.adding
