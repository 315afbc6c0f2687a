"""Judging a generation body with the same code the client uses: the bundled spec, then the rule module.

Returns the first problem as ``(param, message)`` for the spec's 400 envelope;
``param`` names the field in the client's notation (``image_urls[3]``,
``model_params.output_format``), or is None when the body as a whole is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from jsonschema.exceptions import ValidationError, best_match

from .. import _rules, _spec
from ._responses import short

__all__ = ["BodyProblem", "check_body", "parse_json"]

BodyProblem = tuple[str | None, str]


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity. Raises ValueError saying what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"request body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("request body nests too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"request body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def check_body(body: Any, *, allow_internal_callbacks: bool) -> BodyProblem | None:
    if not isinstance(body, dict):
        return None, f"request body: must be a JSON object (got {type(body).__name__})"
    errors: Iterable[ValidationError] = _spec.request_body_validator().iter_errors(body)
    error = best_match(errors)
    if error is not None:
        return _describe(error)
    violations = _rules.check_request(body, allow_internal_callbacks=allow_internal_callbacks)
    if violations:
        return violations[0].field, str(violations[0].to_error())
    return None


def _describe(error: ValidationError) -> BodyProblem:
    path: list[str | int] = list(error.absolute_path)
    value: object = error.instance
    keyword, expected = error.validator, cast(Any, error.validator_value)
    if keyword == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        path.append(missing[0] if missing else "?")
        param = _param(path)
        return param, f"{param}: is required"
    rules = {
        "type": lambda: f"must be of type {' or '.join(expected) if isinstance(expected, list) else expected}",
        "enum": lambda: "must be one of " + ", ".join(str(v) for v in expected),
        "const": lambda: f"must be {expected!r}",
        "maxLength": lambda: f"must be at most {expected} characters",
        "minLength": lambda: f"must be at least {expected} characters",
        "minimum": lambda: f"must be >= {expected}",
        "maximum": lambda: f"must be <= {expected}",
        "maxItems": lambda: f"must have at most {expected} items",
        "minItems": lambda: f"must have at least {expected} items",
        "pattern": lambda: f"must match {expected}",
        "format": lambda: f"must be a valid {expected}",
    }
    rule = rules[str(keyword)]() if keyword in rules else error.message[:200]
    param = _param(path)
    return param, f"{param or 'request body'}: {rule} (got {short(value)})"


def _param(path: list[str | int]) -> str | None:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or None
