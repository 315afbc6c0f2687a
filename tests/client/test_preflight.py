"""Reference-image preflight for local files and bytes, every limit from the rule module.

Images are made by Pillow in memory. Huge ones are only *headers*: a PNG
whose IHDR claims 6001x6000 pixels opens (lazily) without allocating them.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from seedream import ReferenceImageInfo, RequestValidationError, preflight_reference_image, preflight_reference_images
from seedream._rules import MAX_REFERENCE_BYTES, RULES

MB10 = 10 * 1024 * 1024


def image_bytes(width: int, height: int, fmt: str = "PNG", mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (120, 40, 200) if mode == "RGB" else 0).save(buffer, format=fmt)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height (1-bit grey) with one empty IDAT: enough for Pillow to open it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def _rejected(source: object) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as caught:
        preflight_reference_image(source)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"])
def test_every_listed_format_passes_and_reports_what_it_found(fmt: str) -> None:
    data = image_bytes(64, 48, fmt)
    info = preflight_reference_image(data)
    assert info == ReferenceImageInfo(format=fmt, width=64, height=48, bytes=len(data))


def test_a_file_path_works_and_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "ref.jpg"
    path.write_bytes(image_bytes(300, 200, "JPEG"))
    info = preflight_reference_image(path)
    assert (info.format, info.width, info.height, info.bytes, info.source) == (
        "JPEG",
        300,
        200,
        path.stat().st_size,
        str(path),
    )
    assert preflight_reference_image(str(path)) == info


@pytest.mark.parametrize(
    ("width", "height", "rule_id"),
    [
        (15, 15, None),
        (14, 100, "reference-image-min-side"),
        (100, 14, "reference-image-min-side"),
        (1, 1, "reference-image-min-side"),
        (16 * 15, 15, None),  # aspect exactly 16
        (15, 16 * 15, None),  # aspect exactly 1/16
        (17 * 15, 15, "reference-image-aspect"),  # 1:17 the other way
        (15, 17 * 15, "reference-image-aspect"),  # 1:17
        (16 * 20 + 1, 20, "reference-image-aspect"),
    ],
)
def test_sides_and_aspect_ratio_at_their_edges(width: int, height: int, rule_id: str | None) -> None:
    data = image_bytes(width, height, "PNG", "L")
    if rule_id is None:
        assert preflight_reference_image(data).width == width
    else:
        error = _rejected(data)
        assert error.rule_id == rule_id and error.field == "image"
        assert f"{width}x{height}" in str(error)


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [(6000, 6000, True), (6000, 6001, False), (6001, 6000, False), (10000, 10000, False), (20000, 20000, False)],
)
def test_total_pixels_at_the_6000x6000_edge_without_allocating_the_image(width: int, height: int, ok: bool) -> None:
    data = png_header(width, height)
    if ok:
        assert preflight_reference_image(data) == ReferenceImageInfo("PNG", width, height, len(data))
    else:
        error = _rejected(data)
        assert error.rule_id == "reference-image-max-pixels"


def test_ten_megabytes_exactly_passes_and_one_byte_more_fails(tmp_path: Path) -> None:
    small = image_bytes(32, 32)
    assert MAX_REFERENCE_BYTES == MB10
    exactly = small + b"\0" * (MB10 - len(small))  # trailing bytes after IEND: still a PNG
    assert preflight_reference_image(exactly).bytes == MB10
    over = exactly + b"\0"
    assert _rejected(over).rule_id == "reference-image-size"
    path = tmp_path / "big.png"
    path.write_bytes(over + b"\0" * MB10)  # a file: only its head is read, its real size is judged
    error = _rejected(path)
    assert error.rule_id == "reference-image-size" and f"{2 * MB10 + 1:,}" in str(error)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"just some text, not an image\n", "not a readable image"),
        (b"", "not a readable image"),
        (image_bytes(32, 32, "PNG")[:20], "not a readable image"),
        (image_bytes(32, 32, "PPM"), "PPM"),
        (image_bytes(32, 32, "ICO"), "ICO"),
    ],
    ids=["text", "empty", "truncated-png", "ppm", "ico"],
)
def test_a_text_file_or_an_unlisted_format_fails_the_format_rule(data: bytes, what: str, tmp_path: Path) -> None:
    path = tmp_path / "ref.png"
    path.write_bytes(data)
    for source in (data, path):
        error = _rejected(source)
        assert error.rule_id == "reference-image-format" and what in str(error)


def test_every_broken_rule_is_reported_on_the_error() -> None:
    data = png_header(25000, 1500) + b"\0" * MB10  # too big, too wide (16.7), too many pixels (37.5M)
    error = _rejected(data)
    notes = "\n".join(getattr(error, "__notes__", []))
    assert error.rule_id == "reference-image-size"
    assert "aspect ratio" in notes and "6000x6000" in notes


def test_a_url_or_a_missing_file_is_a_clear_error_naming_the_field(tmp_path: Path) -> None:
    error = _rejected("https://cdn.example.com/ref.png")
    assert error.field == "image" and "URL" in error.rule
    missing = _rejected(tmp_path / "nope.png")
    assert "readable local file" in missing.rule and str(tmp_path / "nope.png") == missing.value
    assert "type" in _rejected(12345).rule


def test_many_images_at_once_report_each_in_order_with_its_index(tmp_path: Path) -> None:
    good = image_bytes(64, 64)
    path = tmp_path / "ok.webp"
    path.write_bytes(image_bytes(100, 50, "WEBP"))
    results = preflight_reference_images([good, b"nope", path, png_header(6001, 6001)])
    assert isinstance(results[0], ReferenceImageInfo) and isinstance(results[2], ReferenceImageInfo)
    assert results[2].format == "WEBP"
    assert isinstance(results[1], RequestValidationError) and results[1].field == "image_urls[1]"
    assert isinstance(results[3], RequestValidationError) and results[3].rule_id == "reference-image-max-pixels"


def test_preflight_names_only_rules_of_the_rule_module() -> None:
    ids = {rule.id for rule in RULES if rule.id.startswith("reference-image-")}
    assert ids == {
        "reference-image-size",
        "reference-image-format",
        "reference-image-aspect",
        "reference-image-min-side",
        "reference-image-max-pixels",
    }
