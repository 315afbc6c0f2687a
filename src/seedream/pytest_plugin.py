"""pytest plugin (entry point ``seedream`` in group ``pytest11``): fixtures for user projects."""

from __future__ import annotations

__all__: list[str] = []
