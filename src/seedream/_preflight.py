"""Reference-image preflight: check a local file or bytes before hosting it for ``image_urls``.

The API fetches reference images by URL, so their limits (size, format,
aspect ratio, sides, total pixels) cannot be checked from the URL; a user
about to upload an image can check it here first. Every limit comes from the
rule module (``_rules.check_reference_image``): nothing is re-implemented.
Only the image header is read (Pillow opens lazily), so a huge image costs
little; a file larger than the byte limit is read only up to its head.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ._errors import RequestValidationError
from ._rules import MAX_REFERENCE_BYTES, check_reference_image, reference_image_facts

__all__ = ["ImageSource", "ReferenceImageInfo", "preflight_reference_image", "preflight_reference_images"]

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview

# Enough of an oversized file to identify it; the size rule uses the file's real size.
_HEAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ReferenceImageInfo:
    """A reference image that passed every rule: format (Pillow's name, e.g. ``JPEG``), pixels, byte count."""

    format: str
    width: int
    height: int
    bytes: int
    source: str | None = None  # the path, for files


def _load(source: ImageSource, field: str) -> tuple[bytes, int, str | None]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return data, len(data), None
    if isinstance(source, str) and source.lower().startswith(("http://", "https://", "data:")):
        raise RequestValidationError(
            field, source, "a local file or bytes: an image behind a URL cannot be preflighted here"
        )
    if not isinstance(source, (str, os.PathLike)):
        raise RequestValidationError(field, source, "type: a file path or the image bytes")
    path = Path(source)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            data = handle.read(size if size <= MAX_REFERENCE_BYTES else _HEAD_BYTES)
    except OSError as exc:
        raise RequestValidationError(field, str(path), f"a readable local file ({exc.strerror or exc})") from exc
    return data, size, str(path)


def preflight_reference_image(source: ImageSource, *, field: str = "image") -> ReferenceImageInfo:
    """Check one reference image (a path or its bytes) against every reference-image rule.

    Returns what it found; raises :class:`RequestValidationError` naming the
    field, the value and the rule (``rule_id`` e.g. ``reference-image-aspect``)
    for the first rule broken. Other errors of the same image are in the
    exception's ``__notes__``.
    """
    data, size, path = _load(source, field)
    violations = check_reference_image(data, field=field, total_bytes=size)
    if violations:
        error = violations[0].to_error()
        for other in violations[1:]:
            error.add_note(f"also: {other.field}: {other.rule} (got {other.value!r})")
        raise error
    facts = reference_image_facts(data)
    if facts is None:  # cannot happen once check_reference_image passed; keep the promise typed
        raise RequestValidationError(field, path or f"{size} bytes", "not a readable image", "reference-image-format")
    return ReferenceImageInfo(facts.format, facts.width, facts.height, size, path)


def preflight_reference_images(
    sources: Iterable[ImageSource], *, field: str = "image_urls"
) -> list[ReferenceImageInfo | RequestValidationError]:
    """Check several images; one entry per source, in order: its info, or the error it raised.

    Nothing is raised for a bad image, so one pass reports every problem;
    fields are ``image_urls[0]``, ``image_urls[1]``, ... To stop at the first
    problem instead, call :func:`preflight_reference_image` in a loop.
    """
    results: list[ReferenceImageInfo | RequestValidationError] = []
    for index, source in enumerate(sources):
        try:
            results.append(preflight_reference_image(source, field=f"{field}[{index}]"))
        except RequestValidationError as exc:
            results.append(exc)
    return results
