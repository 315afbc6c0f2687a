"""The benchmark table of docs/benchmarks.md, rewritten in place by a full ``nox -s bench`` run.

Only the region between the two markers is replaced; the prose around it (what
each figure measures, the pictures) is written by hand.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["END", "START", "replace_table", "update_page"]

START = "<!-- bench-table:start (written by nox -s bench; do not edit) -->"
END = "<!-- bench-table:end -->"


def replace_table(page: str, table: str) -> str:
    """``page`` with the text between ``START`` and ``END`` replaced by ``table`` (markers kept)."""
    if page.count(START) != 1 or page.count(END) != 1:
        raise ValueError(f"the page needs exactly one {START!r} and one {END!r}")
    head, rest = page.split(START, 1)
    if END not in rest:
        raise ValueError(f"{END!r} comes before {START!r}")
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n\n{table.strip()}\n\n{END}{tail}"


def update_page(path: Path, table: str) -> bool:
    """Rewrite the table region of the page at ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    new = replace_table(text, table)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
