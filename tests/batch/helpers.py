"""Small shared pieces of the batch tests."""

from __future__ import annotations

import hashlib

KEY = "sk-batch-test-0b1c2d3e4f"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
