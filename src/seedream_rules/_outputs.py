"""What a valid request yields (image count and pixel size), which task failures are worth retrying, and
which refusals of a generation POST prove that nothing was created."""

from __future__ import annotations

from collections.abc import Mapping

from ._catalog import DEFAULT_QUALITY, DEFAULT_SIZE, MAX_TOTAL_IMAGES
from ._checks import parse_wxh

__all__ = [
    "ADMISSION_REFUSAL_CODES",
    "TASK_FAILURE_CODES",
    "generated_image_count",
    "is_retryable_task_code",
    "output_size",
    "proves_not_created",
]

# Output sizes reported for Seedream 5.0 Lite (third-party integrations, see
# spec-facts). 4:5 and 5:4 are listed nowhere: derived here at exactly 4:5 with
# the pixel count of 3:4 (2K) scaled by 1.5 for 3K, on a 32-pixel grid.
# `auto` is taken as 1:1 at the requested quality.
_OUTPUT_SIZES: Mapping[str, Mapping[str, tuple[int, int]]] = {
    "1:1": {"2K": (2048, 2048), "3K": (3072, 3072)},
    "4:3": {"2K": (2304, 1728), "3K": (3456, 2592)},
    "3:4": {"2K": (1728, 2304), "3K": (2592, 3456)},
    "16:9": {"2K": (2848, 1600), "3K": (4096, 2304)},
    "9:16": {"2K": (1600, 2848), "3K": (2304, 4096)},
    "3:2": {"2K": (2496, 1664), "3K": (3744, 2496)},
    "2:3": {"2K": (1664, 2496), "3K": (2496, 3744)},
    "21:9": {"2K": (3136, 1344), "3K": (4704, 2016)},
    "4:5": {"2K": (1792, 2240), "3K": (2688, 3360)},  # derived
    "5:4": {"2K": (2240, 1792), "3K": (3360, 2688)},  # derived
    "auto": {"2K": (2048, 2048), "3K": (3072, 3072)},  # derived: as 1:1
}


def output_size(size: str | None, quality: str | None) -> tuple[int, int]:
    """Pixel size of the images a valid request produces (``WxH`` as given; ratio + quality from the table)."""
    dims = parse_wxh(size or DEFAULT_SIZE)
    if dims is not None:
        return dims
    return _OUTPUT_SIZES[size or "1:1"][quality or DEFAULT_QUALITY]


def generated_image_count(n: int | None, reference_count: int) -> int:
    """Images a task yields: "final generated images = 15 - reference image count" when n would exceed it."""
    return max(0, min(n or 1, MAX_TOTAL_IMAGES - reference_count))


# Task failure codes (error.code of a failed task) -> retryable? From the
# vendor's table: caller-fixable codes are not retryable as they stand.
TASK_FAILURE_CODES: Mapping[str, bool] = {
    "content_policy_violation": False,
    "invalid_parameters": False,
    "image_processing_error": False,
    "image_dimension_mismatch": False,
    "request_cancelled": False,
    "generation_failed_no_content": True,
    "service_error": True,
    "generation_timeout": True,
    "resource_exhausted": True,
    "quota_exceeded": True,
    "service_unavailable": True,
    "resource_not_found": True,
    "unknown_error": True,
}


def is_retryable_task_code(code: str | None) -> bool:
    """The vendor's word on a failure code; an unknown code counts as retryable (server side)."""
    return TASK_FAILURE_CODES.get(code or "unknown_error", True)


# spec-facts, "What the vendor's own clients do": the vendor's CLI treats a refused paid POST as
# "rejected" (nothing was created, safe to resubmit) only for these `error.code` values; "every other
# failure after the request left is 'outcome unknown'". Balance and key rejections come as HTTP 402.
ADMISSION_REFUSAL_CODES: frozenset[str] = frozenset(
    {
        "insufficient_quota",
        "insufficient_user_quota",
        "quota_not_enough",
        "account_balance_insufficient",
        "insufficient_token_quota",
        "key_quota_exhausted",
        "token_daily_quota_exceeded",
        "key_daily_quota_exhausted",
        "key_disabled",
        "key_expired",
        "key_model_not_allowed",
    }
)


def proves_not_created(status: int, code: object) -> bool:
    """Whether an error answer to a generation POST proves no task was created (``rejected``).

    False means the outcome is unknown (``unconfirmed``): only the admission codes above prove it,
    compared case-insensitively as the vendor's CLI does, and only on a 4xx answer (a 5xx or a
    proxy's page says nothing about what the gateway did). ``code`` is the envelope's ``error.code``
    of any JSON type: an integer code (a vendor page shows ``400``) is kept but proves nothing.
    """
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 499:
        return False
    return isinstance(code, str) and code.strip().lower() in ADMISSION_REFUSAL_CODES
