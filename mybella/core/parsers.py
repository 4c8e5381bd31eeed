"""Strict JSON: what the API reads as a body, and what imports read from files.

Python's json module accepts things no database can store or no exporter can write back:
NaN and Infinity, numbers that overflow to infinity, lone surrogates, NUL characters, and
nesting deep enough to exhaust the stack. Everything arriving as JSON goes through
`json_loads_strict`, so each of them is a clear 400 instead of a 500 further on.
"""

import json
import math
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from mybella.core import limits


class StrictJSONError(ValueError):
    """JSON that parses but can't be accepted; str(error) says why, for the user."""


def _refuse_constant(name: str) -> float:
    raise StrictJSONError(_("%s is not a JSON number") % name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(_("the number %s is out of range") % text[:40])
    return value


def json_loads_strict(text: str) -> Any:
    """Parse `text` as JSON; raise ValueError unless it is plain, storable JSON.

    Refused: NaN/Infinity, numbers out of range, lone surrogates and NUL characters in any
    string or key, and nesting deeper than `limits.JSON_MAX_DEPTH`.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise StrictJSONError(
            _("it is nested more than %d levels deep") % limits.JSON_MAX_DEPTH
        ) from None
    problem = limits.json_problem(value)
    if problem:
        raise StrictJSONError(problem)
    return value


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, reading bodies with `json_loads_strict`."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> Any:
        # get_encoding refuses non-text codecs (bz2_codec would inflate a small body).
        encoding = get_encoding(parser_context or {})
        try:
            return json_loads_strict(stream.read().decode(encoding))
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
