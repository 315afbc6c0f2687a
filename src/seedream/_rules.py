"""The runtime's view of the rules: :mod:`seedream_rules` re-exported, plus what needs the runtime.

The rules themselves live in the dependency-free package ``seedream_rules``
(rules <- generated client <- runtime): the generated request model calls
them from ``validate_dict`` by the ``x-seedream-rules`` ids of the spec. This
module adds the parts that need more than the standard library: reading an
image header with Pillow for the reference-image rules, and the runtime's
:class:`RequestValidationError`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seedream_client.errors import ConstraintViolation
from seedream_client.models import ImageGenerationRequest
from seedream_client.models.image_generation_request import RULES as _REQUEST_RULES

from seedream_rules import (
    ADMISSION_REFUSAL_CODES,
    DEFAULT_QUALITY,
    DEFAULT_SIZE,
    MAX_PIXELS,
    MAX_REFERENCE_BYTES,
    MAX_TOTAL_IMAGES,
    MIN_PIXELS,
    RATIOS,
    RULES,
    TASK_FAILURE_CODES,
    ReferenceImageFacts,
    Rule,
    RuleOptions,
    check_reference_facts,
    collect,
    generated_image_count,
    host_class,
    is_internal_host,
    is_loopback_host,
    is_retryable_task_code,
    output_size,
    parse_wxh,
    proves_not_created,
    rule_by_id,
)

from ._errors import RequestValidationError

__all__ = [
    "ADMISSION_REFUSAL_CODES",
    "DEFAULT_QUALITY",
    "DEFAULT_SIZE",
    "MAX_PIXELS",
    "MAX_REFERENCE_BYTES",
    "MAX_TOTAL_IMAGES",
    "MIN_PIXELS",
    "RATIOS",
    "RULES",
    "TASK_FAILURE_CODES",
    "ReferenceImageFacts",
    "Rule",
    "Violation",
    "check_reference_image",
    "check_request",
    "generated_image_count",
    "host_class",
    "is_internal_host",
    "is_loopback_host",
    "is_retryable_task_code",
    "output_size",
    "parse_wxh",
    "proves_not_created",
    "reference_failure_code",
    "reference_image_facts",
    "spec_violation_error",
    "validate_request",
]

_ALLOW_INTERNAL = RuleOptions(allow_internal_callbacks=True)
_STRICT = RuleOptions()


@dataclass(frozen=True)
class Violation:
    field: str
    value: object
    rule: str
    rule_id: str

    def to_error(self) -> RequestValidationError:
        return RequestValidationError(self.field, self.value, self.rule, self.rule_id)


def _violations(found: list[ConstraintViolation]) -> list[Violation]:
    return [Violation(v.field, v.value, v.rule, v.rule_id or "") for v in found]


def _options(allow_internal_callbacks: bool) -> RuleOptions:
    return _ALLOW_INTERNAL if allow_internal_callbacks else _STRICT


def check_request(body: Mapping[str, Any], *, allow_internal_callbacks: bool = False) -> list[Violation]:
    """Prose-rule violations of a wire-form generation body (the spec's constraints are checked elsewhere).

    The rules are the ones the spec names on the request schema, run by the
    same code the generated validator calls. ``allow_internal_callbacks`` is
    for tests against the simulator only: the real API refuses internal
    callback hosts.
    """
    return _violations(collect(_REQUEST_RULES, body, "", _options(allow_internal_callbacks)))


def spec_violation_error(exc: ConstraintViolation) -> RequestValidationError:
    """The :class:`RequestValidationError` for a validator's finding, with its rule id."""
    rule = exc.rule
    if exc.rule_id is not None and rule.split(":", 1)[0] == "pattern":
        # The generated validator quotes the regular expression; the rule's words say what is allowed.
        rule = rule_by_id(exc.rule_id).text
    return RequestValidationError(exc.field, exc.value, rule, exc.rule_id)


def validate_request(body: Mapping[str, Any], *, allow_internal_callbacks: bool = False) -> None:
    """Every rule for a generation body: the generated validator (spec constraints, then the prose rules).

    Raises :class:`RequestValidationError` for the first violation found.
    """
    try:
        ImageGenerationRequest.validate_dict(body, "", _options(allow_internal_callbacks))
    except ConstraintViolation as exc:
        raise spec_violation_error(exc) from None


# Pillow names camera JPEGs with a multi-picture index "MPO": still .jpg files.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_TOO_MANY_PIXELS = "too-many-pixels"
_UNREADABLE = "unreadable"


def _read_header(data: bytes) -> ReferenceImageFacts | str:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Above ~89 Mpx Pillow warns of a decompression bomb; we only read the header.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt, (width, height) = image.format or "", image.size
    except Image.DecompressionBombError:
        return _TOO_MANY_PIXELS  # above ~179 Mpx Pillow refuses to open it at all
    except Exception:  # untrusted bytes: Pillow plugins raise many types on malformed headers
        return _UNREADABLE
    return ReferenceImageFacts(_FORMAT_ALIASES.get(fmt, fmt), width, height, len(data))


def reference_image_facts(data: bytes) -> ReferenceImageFacts | None:
    """Format and pixel size from the image header (nothing is decoded); None if it cannot be read."""
    facts = _read_header(data)
    return facts if isinstance(facts, ReferenceImageFacts) else None


def check_reference_image(data: bytes, *, field: str = "image", total_bytes: int | None = None) -> list[Violation]:
    """Violations of the reference-image limits for image bytes (a local file a user is about to host).

    The limits cannot be checked from a URL, so the client offers this as a
    preflight; the simulator applies it to the images it fetches.
    ``total_bytes`` is the full size when ``data`` is only the file's head.
    """
    size = len(data) if total_bytes is None else total_bytes
    facts = _read_header(data)
    found = check_reference_facts(
        facts if isinstance(facts, ReferenceImageFacts) else None,
        size,
        field=field,
        too_many_pixels=facts == _TOO_MANY_PIXELS,
    )
    return _violations(found)


def reference_failure_code(violation: Violation) -> str:
    """The task failure code the service reports for a reference image breaking ``violation``."""
    if violation.rule_id in {"reference-image-size", "reference-image-format"}:
        return "image_processing_error"
    return "image_dimension_mismatch"
