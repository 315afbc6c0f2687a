"""Prompt markers: ``[sim:name=value]`` in a prompt steers one task deterministically.

    [sim:fail=CODE]        the task fails with error.code CODE (any [a-z0-9_]+; codes outside the
                           vendor's table pass through, to test unknown-code handling; digits only,
                           such as 400, are sent as a JSON integer)
    [sim:duration=S]       the task ends S simulated seconds after creation (S >= 0)
    [sim:images=K]         the task yields at most K images (K >= 1), as a prompt asking for fewer would

Markers with an unknown name or an unusable value are ignored, as the real
service would ignore the text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Markers", "parse_markers"]

_MARKER = re.compile(r"\[sim:([a-z_-]+)=([^\]\s]*)\]", re.IGNORECASE)
_CODE = re.compile(r"[a-z0-9_]+")
_COUNT = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class Markers:
    fail: str | None = None
    duration: float | None = None
    images: int | None = None


def parse_markers(prompt: str) -> Markers:
    fail: str | None = None
    duration: float | None = None
    images: int | None = None
    for match in _MARKER.finditer(prompt):
        name, value = match.group(1).lower().replace("-", "_"), match.group(2)
        if name == "fail" and _CODE.fullmatch(value):
            fail = value
        elif name == "duration":
            try:
                seconds = float(value)
            except ValueError:
                continue
            if math.isfinite(seconds) and seconds >= 0:
                duration = seconds
        elif name == "images" and _COUNT.fullmatch(value) and int(value) >= 1:
            images = int(value)
    return Markers(fail=fail, duration=duration, images=images)
