"""Plain rows from raw SQL, with the values the ORM would have given.

For hot reads of a few hundred rows (memory recall) where building model instances costs
more than the query: the selector runs its SQL on a cursor and converts the columns that
need it (SQLite's datetimes are naive, JSON is text on both databases).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import Model

from mybella.core.errors import NotFound

# Made once per (model, field, expression, database, time zone): a search asks for them seven
# times, each asking the field and the backend for their converters again. Not per connection
# object: under ASGI every request's sync code runs in a thread of its own (Django's
# ThreadSensitiveContext), so each request has a new DatabaseWrapper and would make them
# again. What they use of the backend is the same for every connection to the database; the
# converters are given the `connection` proxy, the calling thread's, when they run.
_MADE: dict[tuple, Any] = {}


def _made(key: tuple, make: Callable[[], Any]) -> Any:
    # The time zone is in the key: a test's override_settings changes it.
    key = (*key, connection.alias, connection.vendor, settings.USE_TZ, connection.timezone_name)
    found = _MADE.get(key)
    if found is None:
        found = _MADE[key] = make()
    return found


def field_converter(model: type[Model], name: str) -> Callable[[Any], Any]:
    """Return what turns the database's value of `model.name` into the field's Python value.

    The converters the ORM applies when it loads the field: the backend's (e.g. SQLite's
    text to an aware datetime) and the field's own (`from_db_value`, e.g. JSON). Made once
    per field, database and time zone.
    """
    return _made((model, name), lambda: _field_converter(model, name))


def _field_converter(model: type[Model], name: str) -> Callable[[Any], Any]:
    field = model._meta.get_field(name)
    column = field.cached_col
    converters = [
        *connection.ops.get_db_converters(column),
        *field.get_db_converters(connection),
    ]

    def convert(value: Any) -> Any:
        for converter in converters:
            value = converter(value, column, connection)
        return value

    if (
        connection.vendor == "sqlite"
        and settings.USE_TZ
        and field.get_internal_type() == "DateTimeField"
        and len(converters) == 1
    ):
        return _sqlite_datetime(connection.timezone, fallback=convert)
    return convert


def _sqlite_datetime(zone: tzinfo, *, fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # The sqlite3 module has already parsed a datetime column's text (Django registers the
    # parser for its declared type): what is left of the backend's converter is making it
    # aware in the connection's zone, done here without its generic checks, for the
    # hundreds of rows recall reads per search. Anything else takes the converter.
    def convert(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return fallback(value)

    return convert


def datetime_column(
    model: type[Model], name: str, expression: str
) -> tuple[str, Callable[[Any], Any]]:
    """Return SQL that selects `expression`, the DateTimeField `model.name`, and what turns
    the value read into the field's value (as `field_converter(model, name)` does).

    On PostgreSQL with USE_TZ the column is read as a UTC `timestamp`, which psycopg loads
    in C, and made aware here in the connection's zone: the `timestamptz` loader Django
    registers parses each value in Python (~4 µs; a memory search reads a hundred). Made
    once per field, expression, database and time zone.
    """
    return _made((model, name, expression), lambda: _datetime_column(model, name, expression))


def _datetime_column(
    model: type[Model], name: str, expression: str
) -> tuple[str, Callable[[Any], Any]]:
    zone = connection.timezone
    if connection.vendor != "postgresql" or not settings.USE_TZ or zone is None:
        return expression, field_converter(model, name)
    if zone is UTC:
        return f"({expression} AT TIME ZONE 'UTC')", _aware_utc

    def convert(value: Any) -> Any:
        return None if value is None else value.replace(tzinfo=UTC).astimezone(zone)

    return f"({expression} AT TIME ZONE 'UTC')", convert


def _aware_utc(value: Any) -> Any:
    return None if value is None else value.replace(tzinfo=UTC)


def id_in(column: str, ids: Sequence[int], *, negate: bool = False) -> tuple[str, list[Any]]:
    """Return SQL that holds when `column` is one of `ids` (not one of them with `negate`),
    and its parameters.

    On PostgreSQL the ids are one array parameter: one statement whatever their number,
    which psycopg prepares once (a placeholder per id made each number of ids a statement
    of its own, planned at every run). SQLite has no arrays: a placeholder per id; an empty
    `ids` is "TRUE" with `negate` (nothing to leave out) and "FALSE" without.
    """
    if connection.vendor == "postgresql":
        test = f"{column} <> ALL(%s::bigint[])" if negate else f"{column} = ANY(%s::bigint[])"
        return test, [list(ids)]
    if not ids:
        return ("TRUE" if negate else "FALSE"), []
    holders = ", ".join(["%s"] * len(ids))
    return f"{column} {'NOT IN' if negate else 'IN'} ({holders})", list(ids)


def fetch_all(sql: str, params: list[object]) -> list[tuple]:
    """Return the rows of `sql` run with `params`."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Stand-ins for a compiled statement's values: ids no row has, told apart in its parameters.
_STAND_INS = tuple(-(2**62) - n for n in range(1, 9))


class CompiledQuery:
    """A queryset's statement compiled once per process and database, then run with values.

    For the hot lookups every request makes (the persona or conversation of a nested route,
    a prompt's lorebook), where building and compiling the queryset cost the ORM 0.5–1 ms,
    more than the query. `build(*ids)` returns the queryset (the one rule, as written for
    the ORM) for stand-in ids; it must select the concrete columns of `models`, in order
    (the first model's, then those of each `select_related` one), and take each stand-in
    as a parameter. `rows(*values)` runs it with the values in their place and returns one
    tuple of instances (one per model, made as the ORM makes them) per row.
    """

    def __init__(self, build: Callable[..., Any], *, models: tuple[type[Model], ...]) -> None:
        self.build = build
        self.models = models
        self.arguments = build.__code__.co_argcount
        self._statements: dict[str, tuple[str, tuple[object, ...], list[Callable]]] = {}

    def _statement(self, alias: str) -> tuple[str, tuple[object, ...], list[Callable]]:
        stand_ins = _STAND_INS[: self.arguments]
        compiler = self.build(*stand_ins).query.get_compiler(alias)
        sql, params = compiler.as_sql()
        selected = [(column.target.model, column.target.attname) for column, *_ in compiler.select]
        expected = [(model, name) for model in self.models for name in _columns(model)]
        if selected != expected:
            raise AssertionError(f"{self.build.__qualname__} selects other columns")
        if not set(stand_ins) <= set(params):
            raise AssertionError(f"{self.build.__qualname__} does not take every value")
        converters = [field_converter(model, name) for model, name in selected]
        return sql, tuple(params), converters

    def rows(self, *values: object) -> list[tuple[Model, ...]]:
        """Return the rows of the statement run with `values`, as instances of the models."""
        alias = self.models[0].objects.db
        if alias not in self._statements:
            self._statements[alias] = self._statement(alias)
        sql, params, converters = self._statements[alias]
        given = dict(zip(_STAND_INS, values, strict=False))
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [given.get(p, p) if type(p) is int else p for p in params])
            found = cursor.fetchall()
        made = []
        for row in found:
            values_ = [convert(value) for convert, value in zip(converters, row, strict=True)]
            instances, start = [], 0
            for model in self.models:
                names = _columns(model)
                instances.append(model.from_db(alias, names, values_[start : start + len(names)]))
                start += len(names)
            made.append(tuple(instances))
        return made


def _columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def valid_id(pk: object) -> int:
    """Return `pk` as an id the database can look up; raise NotFound for anything else."""
    try:
        pk = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise NotFound from None
    if not 0 < pk < 2**63:  # beyond a bigint the database would fail, not find nothing
        raise NotFound
    return pk
