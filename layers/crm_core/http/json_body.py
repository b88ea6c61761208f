"""The request body as JSON, parsed once for every route (the resolver's ``json_body_deserializer``).

Strict JSON (RFC 8259), so that no route has to guard against what the standard library lets through:
- the body is a JSON object, as every body of this API is: anything else is 422 (Powertools would take
  the first item of an array for the object, so ``[{...}]`` would create a record);
- ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON numbers: 400;
- at most ``MAX_DEPTH`` nested arrays and objects (a deeper body is 400, whatever its depth: the parser's
  own recursion limit is answered the same way);
- a number has at most ``MAX_NUMBER_DIGITS`` significant digits (DynamoDB keeps 38) and a value a float
  can hold (``1e400`` would be infinity, ``1e-400`` zero): otherwise 422 naming where it is, e.g.
  ``custom.score``. This also keeps a 5,000-digit integer away from ``int()``, whose cost grows with the
  square of its length and which refuses more than 4,300 digits.

The nesting is measured only when the body has enough brackets to exceed it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from crm_core.errors import FieldError, ProblemError, validation_failed
from crm_core.validation import field_errors

MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 38
OUT_OF_RANGE = f"is a number out of range (at most {MAX_NUMBER_DIGITS} digits, and finite)"


class _OutOfRange:
    """Stands in for a refused number until the walk over the body says where it was."""


def parse(text: str) -> Any:
    refused: list[str] = []

    def checked_int(text: str) -> Any:
        if len(text) <= MAX_NUMBER_DIGITS or _digits(text) <= MAX_NUMBER_DIGITS:
            return int(text)
        refused.append(text)
        return _OutOfRange()

    def checked_float(text: str) -> Any:
        if len(text) <= MAX_NUMBER_DIGITS or _digits(text) <= MAX_NUMBER_DIGITS:
            value = float(text)
            if -math.inf < value < math.inf and (value or not _digits(text)):
                return value
        refused.append(text)
        return _OutOfRange()

    def constant(name: str) -> Any:
        raise _malformed(f"The body is not valid JSON: {name} is not a JSON number.")

    try:
        value = json.loads(text, parse_int=checked_int, parse_float=checked_float, parse_constant=constant)
    except json.JSONDecodeError as error:
        raise _malformed(
            f"The body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise _too_deep() from None
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_over(value, MAX_DEPTH):
        raise _too_deep()
    if refused:
        found = field_errors([{"loc": loc, "msg": OUT_OF_RANGE} for loc in _where_refused(value)])
        raise validation_failed(found, "; ".join(f"{e.field}: {e.message}" for e in found))
    if not isinstance(value, dict):
        raise validation_failed([FieldError("body", "must be a JSON object")], "body: must be a JSON object")
    return value


def _digits(number: str) -> int:
    """Significant digits of a JSON number's text (leading zeros do not count)."""
    mantissa = number.lower().partition("e")[0]
    return len(mantissa.lstrip("-").replace(".", "").lstrip("0"))


def _malformed(detail: str) -> ProblemError:
    return ProblemError(400, "Bad Request", detail, [FieldError("body", detail.removeprefix("The body "))])


def _too_deep() -> ProblemError:
    return _malformed(f"The body nests arrays and objects more than {MAX_DEPTH} deep.")


def _depth_over(value: Any, limit: int) -> bool:
    level = [value]
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node if type(node) is list else ())
            if type(child) is dict or type(child) is list
        ]
    return bool(level)


def _where_refused(value: Any) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, _OutOfRange):
            found.append(loc)
        elif isinstance(node, dict):
            stack.extend((child, (*loc, name)) for name, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, (*loc, index)) for index, child in reversed(list(enumerate(node))))
    return found
