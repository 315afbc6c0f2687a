"""What a valid request yields (image count and pixel size) and which task failures are worth retrying."""

from __future__ import annotations

from collections.abc import Mapping

from ._catalog import DEFAULT_QUALITY, DEFAULT_SIZE, MAX_TOTAL_IMAGES
from ._checks import parse_wxh

__all__ = ["TASK_FAILURE_CODES", "generated_image_count", "is_retryable_task_code", "output_size"]

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
