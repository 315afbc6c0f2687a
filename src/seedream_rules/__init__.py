"""``seedream_rules``: the Seedream 5.0 Lite request rules, dependency-free (standard library only).

The bottom of the dependency chain: rules <- generated client
(``seedream_client`` calls :func:`apply` from ``validate_dict``, driven by the
``x-seedream-rules`` ids of the bundled spec) <- runtime (``seedream``).
Hand-written; nothing here imports either of the other two.
"""

from __future__ import annotations

from ._catalog import (
    DEFAULT_QUALITY,
    DEFAULT_SIZE,
    MAX_ASPECT,
    MAX_JSON_DEPTH,
    MAX_PIXELS,
    MAX_REFERENCE_BYTES,
    MAX_REFERENCE_PIXELS,
    MAX_TOTAL_IMAGES,
    MIN_ASPECT,
    MIN_PIXELS,
    MIN_REFERENCE_SIDE_EXCLUSIVE,
    RATIOS,
    REFERENCE_FORMATS,
    RULES,
    ConstraintViolation,
    Rule,
    rule_by_id,
    spec_rule_id,
)
from ._checks import (
    DEFAULT_OPTIONS,
    IMPLEMENTED,
    BodyRule,
    ReferenceImageFacts,
    RuleOptions,
    apply,
    aspect_ok,
    check_reference_facts,
    collect,
    parse_wxh,
    resolve,
    unimplemented,
)
from ._hosts import HostClass, address_class, embedded_ipv4, host_class, is_internal_host, is_loopback_host
from ._outputs import (
    ADMISSION_REFUSAL_CODES,
    TASK_FAILURE_CODES,
    generated_image_count,
    is_retryable_task_code,
    output_size,
    proves_not_created,
)
from ._syntax import is_uri, pattern

__all__ = [
    "ADMISSION_REFUSAL_CODES",
    "DEFAULT_OPTIONS",
    "DEFAULT_QUALITY",
    "DEFAULT_SIZE",
    "IMPLEMENTED",
    "MAX_ASPECT",
    "MAX_JSON_DEPTH",
    "MAX_PIXELS",
    "MAX_REFERENCE_BYTES",
    "MAX_REFERENCE_PIXELS",
    "MAX_TOTAL_IMAGES",
    "MIN_ASPECT",
    "MIN_PIXELS",
    "MIN_REFERENCE_SIDE_EXCLUSIVE",
    "RATIOS",
    "REFERENCE_FORMATS",
    "RULES",
    "TASK_FAILURE_CODES",
    "BodyRule",
    "ConstraintViolation",
    "HostClass",
    "ReferenceImageFacts",
    "Rule",
    "RuleOptions",
    "address_class",
    "apply",
    "aspect_ok",
    "check_reference_facts",
    "collect",
    "embedded_ipv4",
    "generated_image_count",
    "host_class",
    "is_internal_host",
    "is_loopback_host",
    "is_retryable_task_code",
    "is_uri",
    "output_size",
    "parse_wxh",
    "pattern",
    "proves_not_created",
    "resolve",
    "rule_by_id",
    "spec_rule_id",
    "unimplemented",
]
