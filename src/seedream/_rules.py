"""The prose rules of the Seedream 5.0 Lite page that JSON Schema cannot express.

One module, used by the client (before a request is sent), the simulator
(when it judges a request or fetches a reference image) and the tests. Each
rule quotes its sentence of the vendor page. Rules the overlay formalised in
the bundled spec (``n`` range, prompt length, ``image_urls`` count,
``callback_url`` scheme and length, ``size`` shape) are *listed* in
:data:`RULES` with where they live, but checked from the spec itself (the
generated validators, or jsonschema in the simulator): never two copies.

Ids match ``x-seedream-rules`` in ``openapi/overlay.yaml``.
"""

from __future__ import annotations

import io
import ipaddress
import re
import socket
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from urllib.parse import unquote, urlsplit

from seedream_client.errors import ConstraintViolation
from seedream_client.models import ImageGenerationRequest

from ._errors import RequestValidationError

__all__ = [
    "DEFAULT_QUALITY",
    "DEFAULT_SIZE",
    "MAX_TOTAL_IMAGES",
    "RATIOS",
    "RULES",
    "TASK_FAILURE_CODES",
    "ReferenceImageFacts",
    "Rule",
    "Violation",
    "check_reference_image",
    "check_request",
    "generated_image_count",
    "is_internal_host",
    "is_retryable_task_code",
    "output_size",
    "reference_failure_code",
    "reference_image_facts",
    "spec_violation_error",
    "validate_request",
]

# "Method 1 - Ratio format: `auto`, `1:1`, `2:3`, `3:2`, `3:4`, `4:3`, `4:5`, `5:4`, `9:16`, `16:9`, `21:9`"
RATIOS: tuple[str, ...] = ("auto", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# "Total pixel range: `[2560x1440, 3072x3072]`"
MIN_PIXELS = 2560 * 1440
MAX_PIXELS = 3072 * 3072
# "Aspect ratio range: `[1/16, 16]`" (size and reference images alike)
MIN_ASPECT = Fraction(1, 16)
MAX_ASPECT = Fraction(16)
# "Reference image count + final generated image count ≤ 15 images"
MAX_TOTAL_IMAGES = 15
# "Default: `2048x2048`"
DEFAULT_SIZE = "2048x2048"
DEFAULT_QUALITY = "2K"
# Reference images: "Image size: no more than `10MB`", "Width and height (px) > 14",
# "Total pixels: no more than `6000×6000`", "Supported image formats: ..."
MAX_REFERENCE_BYTES = 10 * 1024 * 1024
MIN_REFERENCE_SIDE_EXCLUSIVE = 14
MAX_REFERENCE_PIXELS = 6000 * 6000
REFERENCE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"})

_WXH = re.compile(r"([1-9][0-9]*)x([1-9][0-9]*)")


@dataclass(frozen=True)
class Rule:
    """One prose rule: its id, the field it guards, the rule in words, the vendor's sentence, where it lives."""

    id: str
    field: str
    text: str
    citation: str
    where: str  # "rules" (this module) or "spec:<JSON pointer> <keyword>"


@dataclass(frozen=True)
class Violation:
    field: str
    value: object
    rule: str
    rule_id: str

    def to_error(self) -> RequestValidationError:
        return RequestValidationError(self.field, self.value, self.rule, self.rule_id)


_REQ = "spec:/components/schemas/ImageGenerationRequest/properties"

RULES: tuple[Rule, ...] = (
    Rule(
        "n-range",
        "n",
        "an integer in [1, 15]",
        "Maximum number of images to generate, supports any integer value between `[1,15]`",
        f"{_REQ}/n minimum,maximum",
    ),
    Rule(
        "prompt-length",
        "prompt",
        "at most 2000 characters",
        "limited to 2000 tokens (vendor schema: maxLength 2000)",
        f"{_REQ}/prompt maxLength",
    ),
    Rule(
        "image-urls-count",
        "image_urls",
        "at most 14 reference images",
        "Single request supports input image quantity: `14` images",
        f"{_REQ}/image_urls maxItems",
    ),
    Rule(
        "callback-https",
        "callback_url",
        "https only",
        "Only HTTPS protocol is supported",
        f"{_REQ}/callback_url pattern",
    ),
    Rule(
        "callback-length",
        "callback_url",
        "at most 2048 characters",
        "URL length must not exceed `2048` characters",
        f"{_REQ}/callback_url maxLength",
    ),
    Rule(
        "size-shape",
        "size",
        f"one of the ratios {', '.join(RATIOS)} (used with quality 2K or 3K), or WIDTHxHEIGHT in pixels "
        f"with {MIN_PIXELS:,} to {MAX_PIXELS:,} pixels in all (2560x1440 to 3072x3072) and an aspect ratio "
        "within [1/16, 16]",
        "supports two formats: Method 1 - Ratio format ... Method 2 - Pixel format: Width x Height",
        f"{_REQ}/size pattern",
    ),
    Rule(
        "size-pixel-range",
        "size",
        f"WIDTHxHEIGHT with {MIN_PIXELS:,} to {MAX_PIXELS:,} pixels in all (2560x1440 to 3072x3072)",
        "Total pixel range: `[2560x1440, 3072x3072]`",
        "rules",
    ),
    Rule(
        "size-aspect-range",
        "size",
        "WIDTHxHEIGHT aspect ratio within [1/16, 16]",
        "Aspect ratio range: `[1/16, 16]`",
        "rules",
    ),
    Rule(
        "references-plus-n",
        "n",
        "len(image_urls) + n at most 15",
        "Reference image count + final generated image count ≤ 15 images",
        "rules",
    ),
    Rule(
        "callback-host-not-internal",
        "callback_url",
        "host must not be loopback, private, link-local or localhost",
        "Callback to internal IP addresses is prohibited (127.0.0.1, 10.x.x.x, 172.16-31.x.x, 192.168.x.x, etc.)",
        "rules",
    ),
    Rule("reference-image-size", "image_urls[]", "at most 10 MB", "Image size: no more than `10MB`", "rules"),
    Rule(
        "reference-image-format",
        "image_urls[]",
        "jpeg, png, webp, bmp, tiff or gif",
        "Supported image formats: `.jpeg`, `.jpg`, `.png`, `.webp`, `.bmp`, `.tiff`, `.gif`",
        "rules",
    ),
    Rule(
        "reference-image-aspect",
        "image_urls[]",
        "aspect ratio within [1/16, 16]",
        "Aspect ratio (width/height) range: `[1/16, 16]`",
        "rules",
    ),
    Rule(
        "reference-image-min-side",
        "image_urls[]",
        "width and height greater than 14 px",
        "Width and height (px) > 14",
        "rules",
    ),
    Rule(
        "reference-image-max-pixels",
        "image_urls[]",
        "at most 6000x6000 total pixels",
        "Total pixels: no more than `6000×6000`",
        "rules",
    ),
)
_BY_ID = {rule.id: rule for rule in RULES}


def _violation(rule_id: str, value: object, field: str | None = None, detail: str = "") -> Violation:
    rule = _BY_ID[rule_id]
    text = rule.text + (f" ({detail})" if detail else "")
    return Violation(field or rule.field, value, text, rule_id)


def parse_wxh(size: str) -> tuple[int, int] | None:
    match = _WXH.fullmatch(size)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _aspect_ok(width: int, height: int) -> bool:
    # MIN_ASPECT <= width/height <= MAX_ASPECT, cross-multiplied: exact, and no Fraction per call.
    return (
        MIN_ASPECT.numerator * height <= MIN_ASPECT.denominator * width
        and width * MAX_ASPECT.denominator <= MAX_ASPECT.numerator * height
    )


_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")


_NOT_AN_IP = re.compile(r"[^0-9a-fx.:]")  # a character no IP literal (any notation) can hold


def _host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if _NOT_AN_IP.search(host.split("%", 1)[0]):
        return None  # a host name: skip the (slow, exception-raising) literal parsers
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    # Forms most resolvers still accept: 2130706433, 0x7f000001, 0177.0.0.1, 127.1.
    # Parsed, never resolved (inet_aton does no DNS); the regex keeps it to digits.
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_internal_host(host: str) -> bool:
    """True for ``localhost`` and literal IPs that are loopback, private, link-local or otherwise not public.

    Host names are not resolved (no DNS at validation time); the server may
    still refuse a public name that resolves to an internal address. Literal
    IPv4 in the legacy forms resolvers accept (``2130706433``, ``0x7f.1``,
    ``0177.0.0.1``) and percent-encoded hosts count as what they decode to.
    """
    host = unquote(host).strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost" or host.endswith(".localhost") or not host:
        return True
    address = _host_address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _check_size(body: Mapping[str, Any]) -> list[Violation]:
    size = body.get("size")
    if not isinstance(size, str):
        return []
    dims = parse_wxh(size)
    if dims is None:
        return []  # a ratio, or a shape the spec's pattern rejects
    width, height = dims
    out = []
    pixels = width * height
    if not MIN_PIXELS <= pixels <= MAX_PIXELS:
        out.append(_violation("size-pixel-range", size, detail=f"{width}x{height} = {pixels:,} pixels"))
    if not _aspect_ok(width, height):
        out.append(_violation("size-aspect-range", size, detail=f"{width}/{height} = {width / height:.4g}"))
    return out


def _check_total_images(body: Mapping[str, Any]) -> list[Violation]:
    urls = body.get("image_urls")
    n = body.get("n", 1)
    if not isinstance(urls, list) or isinstance(n, bool) or not isinstance(n, (int, float)):
        return []
    if len(urls) + n > MAX_TOTAL_IMAGES:
        return [_violation("references-plus-n", n, detail=f"{len(urls)} reference images + n={n:g}")]
    return []


def _check_callback(body: Mapping[str, Any], allow_internal: bool) -> list[Violation]:
    url = body.get("callback_url")
    if allow_internal or not isinstance(url, str):
        return []
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return []  # not a URI: the spec's format check reports it
    if is_internal_host(host):
        return [_violation("callback-host-not-internal", url, detail=f"host {host or '(none)'}")]
    return []


def check_request(body: Mapping[str, Any], *, allow_internal_callbacks: bool = False) -> list[Violation]:
    """Prose-rule violations of a wire-form generation body (spec constraints are checked elsewhere).

    ``allow_internal_callbacks`` is for tests against the simulator only: the
    real API refuses internal callback hosts.
    """
    return _check_size(body) + _check_total_images(body) + _check_callback(body, allow_internal_callbacks)


def _spec_rule_ids() -> dict[tuple[str, str], str]:
    """(field, JSON Schema keyword) -> rule id, for the rules the overlay formalised in the spec."""
    found: dict[tuple[str, str], str] = {}
    for rule in RULES:
        if rule.where.startswith("spec:"):
            keywords = rule.where.split(" ", 1)[1]
            for keyword in keywords.split(","):
                found[(rule.field, keyword)] = rule.id
    return found


_SPEC_RULE_IDS = _spec_rule_ids()


def spec_violation_error(exc: ConstraintViolation) -> RequestValidationError:
    """The :class:`RequestValidationError` for a generated validator's finding, with the rule id when the
    constraint formalises a prose rule (``n`` ``maximum`` -> ``n-range``)."""
    keyword = exc.rule.split(":", 1)[0]
    rule_id = _SPEC_RULE_IDS.get((exc.field.split("[", 1)[0], keyword))
    rule = exc.rule
    if keyword == "pattern" and rule_id is not None:
        # The generated validator quotes the regular expression; the rule's words say what is allowed.
        rule = _BY_ID[rule_id].text
    return RequestValidationError(exc.field, exc.value, rule, rule_id)


def validate_request(body: Mapping[str, Any], *, allow_internal_callbacks: bool = False) -> None:
    """Every rule for a generation body: the spec's constraints, then the prose rules.

    Raises :class:`RequestValidationError` for the first violation found.
    """
    try:
        ImageGenerationRequest.validate_dict(body)
    except ConstraintViolation as exc:
        raise spec_violation_error(exc) from None
    violations = check_request(body, allow_internal_callbacks=allow_internal_callbacks)
    if violations:
        raise violations[0].to_error()


@dataclass(frozen=True)
class ReferenceImageFacts:
    """What the reference-image rules look at: Pillow's format name, pixel size, byte count."""

    format: str
    width: int
    height: int
    size_bytes: int


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
    out: list[Violation] = []
    size = len(data) if total_bytes is None else total_bytes
    if size > MAX_REFERENCE_BYTES:
        out.append(_violation("reference-image-size", f"{size:,} bytes", field))
    facts = _read_header(data)
    if facts == _TOO_MANY_PIXELS:
        out.append(_violation("reference-image-max-pixels", "too many pixels for Pillow to open", field))
        return out
    if not isinstance(facts, ReferenceImageFacts):
        out.append(_violation("reference-image-format", f"{size:,} bytes, not a readable image", field))
        return out
    width, height = facts.width, facts.height
    if facts.format not in REFERENCE_FORMATS:
        out.append(_violation("reference-image-format", facts.format, field))
    if width <= MIN_REFERENCE_SIDE_EXCLUSIVE or height <= MIN_REFERENCE_SIDE_EXCLUSIVE:
        out.append(_violation("reference-image-min-side", f"{width}x{height}", field))
    elif not _aspect_ok(width, height):
        out.append(_violation("reference-image-aspect", f"{width}x{height}", field))
    if width * height > MAX_REFERENCE_PIXELS:
        out.append(_violation("reference-image-max-pixels", f"{width}x{height}", field))
    return out


def reference_failure_code(violation: Violation) -> str:
    """The task failure code the service reports for a reference image breaking ``violation``."""
    if violation.rule_id in {"reference-image-size", "reference-image-format"}:
        return "image_processing_error"
    return "image_dimension_mismatch"


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
