"""Real PNG/JPEG images at the exact pixel size a request implies, distinct per prompt, cheap to make.

Each image is drawn small (about 160 pixels on its longer side) and scaled
up with nearest-neighbour sampling, which compresses well: a 3072x3072 PNG
at ``compress_level=1`` takes about 0.15 s. ``variant`` (a 64-bit number
the simulator derives from its seed, the prompt and the image's index)
picks the colours and one of a few patterns; ``label`` (the prompt's first
words) is drawn in a band at the bottom, so results of different prompts can
be told apart at a glance. Most of the picture is one solid background
colour: a contact sheet or a screenshot shows which image is which.
Results are cached per (size, format, variant, label), so a task's images
are made once however often they are downloaded.
"""

from __future__ import annotations

import colorsys
import io
import re
from functools import lru_cache

__all__ = ["MEDIA_TYPES", "image_label", "render_image"]

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
_BASE = 160
_PATTERNS = 4
_LABEL_WORDS = 6
_LABEL_CHARS = 32
_MARKER = re.compile(r"\[sim:[^\]]*\]", re.IGNORECASE)


def image_label(prompt: str) -> str:
    """The words drawn into an image: the prompt's first few, simulator markers left out."""
    words = _MARKER.sub(" ", prompt).split()[:_LABEL_WORDS]
    text = " ".join(words)
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


@lru_cache(maxsize=24)
def render_image(width: int, height: int, fmt: str, variant: int, label: str = "") -> bytes:
    """Encoded image bytes; ``fmt`` is ``png`` or ``jpeg``."""
    from PIL import Image, ImageDraw, ImageFont

    if fmt not in MEDIA_TYPES:
        raise ValueError(f"fmt: png or jpeg (got {fmt!r})")
    scale = _BASE / max(width, height)
    base_w, base_h = max(8, round(width * scale)), max(8, round(height * scale))
    hue = (variant & 0xFFFF) / 0x10000
    background = _rgb(hue, 0.45 + ((variant >> 16) & 0xFF) / 0xFF * 0.4, 0.55 + ((variant >> 24) & 0xFF) / 0xFF * 0.4)
    accent = _rgb((hue + 0.5) % 1.0, 0.8, 0.95)
    image = Image.new("RGB", (base_w, base_h), background)
    draw = ImageDraw.Draw(image)
    pattern = (variant >> 32) % _PATTERNS
    unit = max(4, min(base_w, base_h) // 8)
    if pattern == 0:  # a disc
        r = min(base_w, base_h) // 4
        cx, cy = base_w // 2, base_h // 3
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=accent)
    elif pattern == 1:  # vertical bars
        for x in range(unit // 2, base_w, unit * 3):
            draw.rectangle((x, 0, x + unit - 1, base_h // 2), fill=accent)
    elif pattern == 2:  # a checker patch in one corner
        for y in range(0, base_h // 2, unit):
            for x in range(0, base_w // 2, unit):
                if (x // unit + y // unit) % 2 == 0:
                    draw.rectangle((x, y, x + unit - 1, y + unit - 1), fill=accent)
    else:  # a diamond
        cx, cy, r = base_w // 2, base_h // 3, min(base_w, base_h) // 4
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=accent)
    if label:
        band = max(8, min(base_h // 5, 20))
        draw.rectangle((0, base_h - band, base_w, base_h), fill=(20, 20, 20))
        size = max(6, band - 6)
        font = ImageFont.load_default(size=size)
        while size > 6 and draw.textlength(label, font=font) > base_w - 6:  # shrink to fit the width
            size -= 1
            font = ImageFont.load_default(size=size)
        draw.text((3, base_h - band + (band - size) // 2), label, fill=(250, 250, 250), font=font)
    resized = image.resize((width, height), Image.Resampling.NEAREST)
    out = io.BytesIO()
    if fmt == "png":
        resized.save(out, "PNG", compress_level=1)
    else:
        resized.save(out, "JPEG", quality=85)
    return out.getvalue()


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)
