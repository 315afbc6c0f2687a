"""Repository files the suite reads (the vendor page, the vendor YAML, the facts), installed or not.

A wheel carries copies under ``_repo_files/<repository path>`` (``force-include``
in pyproject.toml); in a checkout the files are read where they live. Either
way a file is named by its path in the repository, so the tests name one thing.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["read_repo_file"]

PACKAGED = "_repo_files"
# src/seedream/conformance/_data.py -> the repository root, when this is a checkout
_CHECKOUT = Path(__file__).resolve().parents[3]


def read_repo_file(path: str) -> bytes:
    """The bytes of ``path`` (relative to the repository root, ``/``-separated)."""
    packaged = files("seedream.conformance").joinpath(PACKAGED, *path.split("/"))
    if packaged.is_file():
        return packaged.read_bytes()
    in_checkout = _CHECKOUT / path
    if (_CHECKOUT / "pyproject.toml").is_file() and in_checkout.is_file():
        return in_checkout.read_bytes()
    raise FileNotFoundError(f"{path}: not packaged with seedream (under {PACKAGED}/) and not in a checkout")
