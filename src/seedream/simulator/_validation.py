"""Judging a generation body, and reading it into the one form the engine uses.

Judged with the same code the client uses: the bundled spec through
``jsonschema`` with ``seedream_rules``' meaning of ``pattern`` (ECMA-262:
``$`` is the end of the text, so ``"2048x2048\\n"`` fails) and of
``format: uri`` (see ``seedream._spec``), then the rule module.

A body that passes is then *read* (:func:`read_generation`) with the parsers
the rules use; what cannot be read is refused like any other invalid value,
so the engine only ever sees a :class:`Generation` it can handle.
Problems are ``(param, message)`` for the spec's 400 envelope; ``param``
names the field in the client's notation (``image_urls[3]``,
``model_params.output_format``), or is None when the body as a whole is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jsonschema.exceptions import ValidationError, best_match

from .. import _rules, _spec
from ._envelopes import short

__all__ = ["BodyProblem", "BodyRefused", "Generation", "check_body", "parse_json", "read_generation"]

BodyProblem = tuple[str | None, str]


class BodyRefused(Exception):
    """A body the simulator answers 400 to: ``param`` (or None) and the message."""

    def __init__(self, param: str | None, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True)
class Generation:
    """A valid generation request, read: everything the engine needs, already parsed."""

    model: str
    prompt: str
    n: int
    width: int
    height: int
    output_format: str | None  # None: the simulator's default
    web_search: bool
    image_urls: tuple[str, ...]
    callback_url: str | None


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
    except ValueError as exc:  # valid JSON Python will not read: an integer of more than 4,300 digits
        raise ValueError(f"request body is not usable JSON ({str(exc)[:80]})") from None


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def check_body(body: Any, *, allow_internal_callbacks: bool) -> BodyProblem | None:
    """The first problem of a parsed body (spec, then prose rules), or None."""
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


def read_generation(raw: bytes, *, allow_internal_callbacks: bool) -> Generation:
    """A request body judged and read; raises :class:`BodyRefused` for anything the simulator cannot accept."""
    try:
        body = parse_json(raw)
    except ValueError as exc:
        raise BodyRefused(None, str(exc)) from None
    problem = check_body(body, allow_internal_callbacks=allow_internal_callbacks)
    if problem is not None:
        raise BodyRefused(*problem)
    return _read(body)


def _read(body: Mapping[str, Any]) -> Generation:
    # Parsed with the rule module's own parsers: a value they cannot read is refused here, not met by the engine.
    size, quality = body.get("size"), body.get("quality")
    if size is not None and _rules.parse_wxh(size) is None and size not in _rules.RATIOS:
        choices = ", ".join(_rules.RATIOS)
        raise BodyRefused("size", f"size: must be one of {choices} or WIDTHxHEIGHT (got {short(size)})")
    width, height = _rules.output_size(size, quality)
    params = body.get("model_params") or {}
    tools = params.get("tools") or []
    callback = body.get("callback_url")
    return Generation(
        model=str(body["model"]),
        prompt=str(body["prompt"]),
        n=int(body.get("n", 1)),
        width=width,
        height=height,
        output_format=params.get("output_format"),
        web_search=any(tool.get("type") == "web_search" for tool in tools),
        image_urls=tuple(body.get("image_urls") or ()),
        callback_url=callback if isinstance(callback, str) else None,
    )


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
