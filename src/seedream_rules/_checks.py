"""The implementations of the rules JSON Schema cannot express, callable by id.

Generated validators call :func:`apply` with the ids the overlay placed on
their schema (``x-seedream-rules``), resolved once at import by
:func:`resolve`: an id without an implementation fails the import, and
``scripts/regenerate.py`` fails on it before anything is generated
(:func:`unimplemented`). Body rules receive the request object the id was
placed on (or on one of whose properties it was placed), already valid
against the schema. Reference-image rules need the image's bytes, which a URL
does not give: they take :class:`ReferenceImageFacts` (read by the runtime's
preflight or the simulator) through :func:`check_reference_facts`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlsplit

from ._catalog import (
    MAX_ASPECT,
    MAX_JSON_DEPTH,
    MAX_PIXELS,
    MAX_REFERENCE_BYTES,
    MAX_REFERENCE_PIXELS,
    MAX_TOTAL_IMAGES,
    MIN_ASPECT,
    MIN_PIXELS,
    MIN_REFERENCE_SIDE_EXCLUSIVE,
    REFERENCE_FORMATS,
    ConstraintViolation,
    rule_by_id,
)
from ._hosts import is_internal_host

__all__ = [
    "DEFAULT_OPTIONS",
    "IMPLEMENTED",
    "BodyRule",
    "ReferenceImageFacts",
    "RuleOptions",
    "apply",
    "aspect_ok",
    "check_reference_facts",
    "collect",
    "parse_wxh",
    "resolve",
    "unimplemented",
]


@dataclass(frozen=True)
class RuleOptions:
    """Explicit departures from the API's rules, for tests against the simulator only.

    ``allow_internal_callbacks``: the real API refuses internal callback
    hosts; a test receiving callbacks on 127.0.0.1 from the simulator needs them.
    """

    allow_internal_callbacks: bool = False


DEFAULT_OPTIONS = RuleOptions()

BodyCheck = Callable[[Mapping[str, Any], str, RuleOptions], "ConstraintViolation | None"]


@dataclass(frozen=True)
class BodyRule:
    id: str
    check: BodyCheck


def _violation(rule_id: str, field: str, value: object, detail: str = "") -> ConstraintViolation:
    text = rule_by_id(rule_id).text + (f" ({detail})" if detail else "")
    return ConstraintViolation(field, value, text, rule_id)


_WXH = re.compile(r"([1-9][0-9]{0,5})x([1-9][0-9]{0,5})")  # the spec's WIDTHxHEIGHT alternative
_LONGEST_WXH = len("999999x999999")


def parse_wxh(size: str) -> tuple[int, int] | None:
    """(width, height) of a ``WIDTHxHEIGHT`` size the spec's pattern allows, else None."""
    return _parse_wxh(size) if len(size) <= _LONGEST_WXH else None


@lru_cache(maxsize=1024)  # the same few sizes, judged by two rules per request; keys are short (see above)
def _parse_wxh(size: str) -> tuple[int, int] | None:
    match = _WXH.fullmatch(size)
    return (int(match.group(1)), int(match.group(2))) if match else None


def aspect_ok(width: int, height: int) -> bool:
    # MIN_ASPECT <= width/height <= MAX_ASPECT, cross-multiplied: exact, and no Fraction per call.
    return (
        MIN_ASPECT.numerator * height <= MIN_ASPECT.denominator * width
        and width * MAX_ASPECT.denominator <= MAX_ASPECT.numerator * height
    )


def _size_dims(body: Mapping[str, Any]) -> tuple[str, int, int] | None:
    size = body.get("size")
    if not isinstance(size, str):
        return None
    dims = parse_wxh(size)
    return None if dims is None else (size, dims[0], dims[1])


def _size_pixel_range(body: Mapping[str, Any], path: str, options: RuleOptions) -> ConstraintViolation | None:
    found = _size_dims(body)
    if found is None:
        return None  # a ratio, or a shape the spec's pattern rejects
    size, width, height = found
    pixels = width * height
    if MIN_PIXELS <= pixels <= MAX_PIXELS:
        return None
    return _violation("size-pixel-range", f"{path}size", size, f"{width}x{height} = {pixels:,} pixels")


def _size_aspect_range(body: Mapping[str, Any], path: str, options: RuleOptions) -> ConstraintViolation | None:
    found = _size_dims(body)
    if found is None or aspect_ok(found[1], found[2]):
        return None
    size, width, height = found
    return _violation("size-aspect-range", f"{path}size", size, f"{width}/{height} = {width / height:.4g}")


def _references_plus_n(body: Mapping[str, Any], path: str, options: RuleOptions) -> ConstraintViolation | None:
    urls = body.get("image_urls")
    n = body.get("n", 1)
    if not isinstance(urls, list) or isinstance(n, bool) or not isinstance(n, (int, float)):
        return None
    if len(urls) + n <= MAX_TOTAL_IMAGES:
        return None
    return _violation("references-plus-n", f"{path}n", n, f"{len(urls)} reference images + n={n:g}")


def _callback_host(body: Mapping[str, Any], path: str, options: RuleOptions) -> ConstraintViolation | None:
    url = body.get("callback_url")
    if options.allow_internal_callbacks or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError when the authority does not split as host:port
    except ValueError:
        host = ""  # no host to judge: refused like an internal one
    if is_internal_host(host):
        return _violation("callback-host-not-internal", f"{path}callback_url", url, f"host {host or '(none)'}")
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(text: str) -> str:
    # A field name must be printable: a surrogate would break every UTF-8 writer (stderr, logs).
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _json_text_problem(value: object, depth: int) -> tuple[str, str, object] | None:
    """(relative path, what is wrong, the value) for the first part of ``value`` JSON cannot carry, else None."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return None if found is None else ("", f"surrogate code point U+{ord(found.group()):04X}", value)
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else ("", "a non-finite number", value)
    if depth >= MAX_JSON_DEPTH:
        return "", f"nested deeper than {MAX_JSON_DEPTH} levels", value
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return "", f"a non-string key {key!r}", value
            if _SURROGATE.search(key):
                return _escaped(key), "a key holding a surrogate code point", key
            found_in = _json_text_problem(item, depth + 1)
            if found_in is not None:
                sub, name = found_in[0], _escaped(key)
                return (f"{name}.{sub}" if sub and not sub.startswith("[") else name + sub), *found_in[1:]
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found_in = _json_text_problem(item, depth + 1)
            if found_in is not None:
                sub = found_in[0]
                return (f"[{index}].{sub}" if sub and not sub.startswith("[") else f"[{index}]{sub}"), *found_in[1:]
        return None
    return "", f"a {type(value).__name__}, not a JSON value", value


def _is_json_text(value: object, depth: int) -> bool:
    """The fast yes of :func:`_json_text_problem` (exact types, no paths built); anything unusual goes slow."""
    kind = type(value)
    if kind is str:
        text = cast(str, value)
        return text.isascii() or _SURROGATE.search(text) is None
    if kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(cast(float, value))
    if depth >= MAX_JSON_DEPTH:
        return False
    if kind is dict:
        for key, item in cast(dict[object, object], value).items():
            if type(key) is not str or not (key.isascii() or _SURROGATE.search(key) is None):
                return False
            if not _is_json_text(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_is_json_text(item, depth + 1) for item in cast(list[object], value))
    return _json_text_problem(value, depth) is None


def _json_text(body: Mapping[str, Any], path: str, options: RuleOptions) -> ConstraintViolation | None:
    if _is_json_text(body, 0):
        return None
    found = _json_text_problem(body, 0)
    if found is None:
        return None
    where, detail, value = found
    field = (path + where) if where else (path.rstrip(".") or "(body)")
    return _violation("json-text", field, value, detail)


_BODY_RULES: Mapping[str, BodyCheck] = {
    "size-pixel-range": _size_pixel_range,
    "size-aspect-range": _size_aspect_range,
    "references-plus-n": _references_plus_n,
    "callback-host-not-internal": _callback_host,
    "json-text": _json_text,
}
_IMAGE_RULES = frozenset(
    {
        "reference-image-size",
        "reference-image-format",
        "reference-image-aspect",
        "reference-image-min-side",
        "reference-image-max-pixels",
    }
)
#: rule id -> what its implementation takes: ``body`` (a request object) or ``image`` (:class:`ReferenceImageFacts`).
IMPLEMENTED: Mapping[str, str] = {**dict.fromkeys(_BODY_RULES, "body"), **dict.fromkeys(_IMAGE_RULES, "image")}


def unimplemented(rule_ids: Iterable[str]) -> list[str]:
    """The ids among ``rule_ids`` that have no catalogue entry or no implementation here."""
    missing = []
    for rule_id in rule_ids:
        try:
            rule = rule_by_id(rule_id)
        except KeyError:
            missing.append(rule_id)
            continue
        if rule.where != "rules" or rule_id not in IMPLEMENTED:
            missing.append(rule_id)
    return missing


def resolve(rule_ids: Iterable[str]) -> tuple[BodyRule, ...]:
    """The body checks for ``rule_ids`` (image rules are checked where the bytes are); unknown ids raise."""
    ids = list(rule_ids)
    missing = unimplemented(ids)
    if missing:
        raise LookupError(f"rule ids without an implementation in seedream_rules: {', '.join(missing)}")
    # json-text last: every other finding names a field more precisely.
    ordered = sorted((i for i in dict.fromkeys(ids) if i in _BODY_RULES), key=lambda i: i == "json-text")
    return tuple(BodyRule(i, _BODY_RULES[i]) for i in ordered)


def collect(
    rules: Iterable[BodyRule], body: Mapping[str, Any], path: str = "", options: RuleOptions = DEFAULT_OPTIONS
) -> list[ConstraintViolation]:
    """Every violation of ``rules`` by ``body`` (a schema-valid request object), in rule order."""
    prefix = f"{path}." if path else ""
    found = (rule.check(body, prefix, options) for rule in rules)
    return [violation for violation in found if violation is not None]


def apply(
    rules: Iterable[BodyRule], body: Mapping[str, Any], path: str = "", options: RuleOptions = DEFAULT_OPTIONS
) -> None:
    """Raise :class:`ConstraintViolation` for the first of ``rules`` that ``body`` breaks."""
    prefix = f"{path}." if path else ""
    for rule in rules:
        violation = rule.check(body, prefix, options)
        if violation is not None:
            raise violation


@dataclass(frozen=True)
class ReferenceImageFacts:
    """What the reference-image rules look at: the image format's name, pixel size, byte count."""

    format: str
    width: int
    height: int
    size_bytes: int


def check_reference_facts(
    facts: ReferenceImageFacts | None, size_bytes: int, *, field: str = "image", too_many_pixels: bool = False
) -> list[ConstraintViolation]:
    """Violations of the reference-image rules by an image of ``size_bytes`` bytes with header ``facts``.

    ``facts`` is None when the header could not be read; ``too_many_pixels``
    when the reader refused the image for its pixel count alone.
    """
    out: list[ConstraintViolation] = []
    if size_bytes > MAX_REFERENCE_BYTES:
        out.append(_violation("reference-image-size", field, f"{size_bytes:,} bytes"))
    if too_many_pixels:
        out.append(_violation("reference-image-max-pixels", field, "too many pixels for Pillow to open"))
        return out
    if facts is None:
        out.append(_violation("reference-image-format", field, f"{size_bytes:,} bytes, not a readable image"))
        return out
    width, height = facts.width, facts.height
    if facts.format not in REFERENCE_FORMATS:
        out.append(_violation("reference-image-format", field, facts.format))
    if width <= MIN_REFERENCE_SIDE_EXCLUSIVE or height <= MIN_REFERENCE_SIDE_EXCLUSIVE:
        out.append(_violation("reference-image-min-side", field, f"{width}x{height}"))
    elif not aspect_ok(width, height):
        out.append(_violation("reference-image-aspect", field, f"{width}x{height}"))
    if width * height > MAX_REFERENCE_PIXELS:
        out.append(_violation("reference-image-max-pixels", field, f"{width}x{height}"))
    return out
