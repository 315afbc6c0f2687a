"""Small shared pieces of the reliability tests."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

SENTINEL_KEY = "sk-reliability-SENTINEL-5e1f0c9a7b3d4e21"
CLI = ["-c", "from seedream._cli import main; main()"]  # after sys.executable: the console script, uninstalled too


def png_bytes(width: int = 16, height: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 16, height: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
