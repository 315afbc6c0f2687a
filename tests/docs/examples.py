"""The code blocks of README.md and docs/**/*.md that the examples test runs, and the ones left out.

A ```python or ```console fence is an example. A block that cannot run
offline carries ``<!-- not-run: why -->`` on the line just above its fence;
the run lists those (never skipped silently). Other fences (no language,
``text``, ``yaml``...) are listings, not examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOCUMENTS", "ROOT", "Block", "blocks", "console_commands"]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLE_LANGUAGES = ("python", "console")

_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_NOT_RUN = re.compile(r"<!--\s*not-run:(?P<reason>.*?)-->")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    body: str
    not_run: str | None  # the reason, when the block is left out

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_pytest_module(self) -> bool:
        return re.search(r"^def test_", self.body, re.M) is not None


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NOT_RUN.fullmatch(before.strip())
        found.append(
            Block(
                path=path,
                line=text.count("\n", 0, match.start()) + 1,
                lang=match.group("lang"),
                body=match.group("body"),
                not_run=marker.group("reason").strip() if marker else None,
            )
        )
    return found


def console_commands(body: str) -> list[str]:
    """The ``$ `` lines of a console block (continued by a trailing backslash); the rest is output."""
    commands: list[str] = []
    continuing = False
    for line in body.splitlines():
        if continuing:
            commands[-1] += "\n" + line
        elif line.startswith("$ "):
            commands.append(line[2:])
        else:
            continue
        continuing = line.endswith("\\")
    return commands
