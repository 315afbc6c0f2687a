"""What the figures share in one run: the mode, a scratch directory, the plain generated client."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from ._plain_client import generate_plain_client

__all__ = ["Context"]

T = TypeVar("T")


@dataclass
class Context:
    quick: bool
    workdir: Path
    skip_suite: bool = False
    shared: dict[str, Any] = field(default_factory=dict)

    def pick(self, full: T, quick: T) -> T:
        return quick if self.quick else full

    def plain_client(self) -> tuple[ModuleType, float, str]:
        """Generated once per run (its generation wall time is figure 6's baseline)."""
        if "plain" not in self.shared:
            self.shared["plain"] = generate_plain_client(self.workdir)
        plain: tuple[ModuleType, float, str] = self.shared["plain"]
        return plain
