"""The rule catalogue: every rule of the Seedream 5.0 Lite page the request side enforces, with its id.

Ids match ``x-seedream-rules`` in ``openapi/overlay.yaml``. Rules the overlay
formalised as JSON Schema keywords are listed with where they live in the
bundled spec (``where="spec:<pointer> <keywords>"``) and checked by the
generated validators; the rest (``where="rules"``) are implemented in this
package (:mod:`._checks`) and called by those validators by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "DEFAULT_QUALITY",
    "DEFAULT_SIZE",
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
    "ConstraintViolation",
    "Rule",
    "rule_by_id",
    "spec_rule_id",
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
# Deeper than this is refused rather than walked (and no JSON encoder recurses past it either).
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class Rule:
    """One rule: its id, the field it guards, the rule in words, the source sentence, where it lives."""

    id: str
    field: str
    text: str
    citation: str
    where: str  # "rules" (this package) or "spec:<JSON pointer> <keyword>[,<keyword>]"


class ConstraintViolation(ValueError):
    """A request value breaks a rule; raised before anything is sent.

    ``field`` is the JSON path of the value (``image_urls[3]``), ``rule`` the
    rule in words (``maxItems: at most 14 items``), ``rule_id`` its id in
    :data:`RULES` (``image-urls-count``), or None for a schema constraint no
    prose rule stands behind (``quality`` ``enum``).
    """

    def __init__(self, field: str, value: object, rule: str, rule_id: str | None = None) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.rule_id = rule_id if rule_id is not None else spec_rule_id(field, rule)
        shown = _shown(value)
        super().__init__(f"{field}: {rule} (got {shown})")


def _shown(value: object) -> str:
    try:
        shown = repr(value)
    except Exception:  # a caller's object whose repr fails must not hide the violation
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= 80 else shown[:77] + "..."


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
        "host must not be loopback, private, link-local, reserved, localhost or an IPv6 form of one",
        "Callback to internal IP addresses is prohibited (127.0.0.1, 10.x.x.x, 172.16-31.x.x, 192.168.x.x, etc.)",
        "rules",
    ),
    Rule(
        "json-text",
        "*",  # any field: the path of the offending value is reported
        "JSON text: strings of Unicode characters (no surrogate code points), finite numbers, string keys",
        "RFC 8259: JSON text exchanged between systems MUST be encoded using UTF-8 (a lone surrogate cannot be); "
        "numeric values such as Infinity and NaN are not permitted",
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


def rule_by_id(rule_id: str) -> Rule:
    """The catalogue entry for ``rule_id`` (KeyError naming the id when there is none)."""
    return _BY_ID[rule_id]


def _spec_rule_ids() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for rule in RULES:
        if rule.where.startswith("spec:"):
            keywords = rule.where.split(" ", 1)[1]
            for keyword in keywords.split(","):
                found[(rule.field, keyword)] = rule.id
    return found


_SPEC_RULE_IDS = _spec_rule_ids()


def spec_rule_id(field: str, rule: str) -> str | None:
    """The prose rule a schema constraint formalises (``n`` + ``maximum: ...`` -> ``n-range``), else None."""
    keyword = rule.split(":", 1)[0]
    return _SPEC_RULE_IDS.get((field.split("[", 1)[0], keyword))
