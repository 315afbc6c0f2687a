"""Write the module table of docs/architecture.md from the tree under src/, so the page cannot go stale.

    python scripts/docs_architecture.py           # rewrite the table between its markers
    python scripts/docs_architecture.py --check   # exit 1 when the page differs from the tree

One row per Python file under src/ (every package, then its modules), described by
the first paragraph of the module's own docstring: the description lives in the code,
and a module added, moved or removed changes the table. tests/docs checks it is current.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

__all__ = ["END", "PAGE", "ROOT", "START", "module_table", "render_page"]

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
START = "<!-- modules:start (written by scripts/docs_architecture.py from src/; do not edit) -->"
END = "<!-- modules:end -->"

_ROLE = re.compile(r":(?:mod|class|func|meth|attr|data|exc):`~?([^`]+)`")


def _summary(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    if not doc:
        return "(no module docstring)"
    first = " ".join(doc.strip().split("\n\n", 1)[0].split())
    return _ROLE.sub(r"`\1`", first).replace("``", "`").replace("|", "\\|")


def module_table(src: Path) -> str:
    """The Markdown table of every package and module under ``src``, in tree order."""
    lines = ["| module | what it holds (its docstring) |", "|---|---|"]
    packages = sorted({p.parent for p in src.rglob("__init__.py")}, key=lambda p: p.relative_to(src).parts)
    for package in packages:
        rel = package.relative_to(src).as_posix()
        lines.append(f"| **`{rel}/`** | {_summary(package / '__init__.py')} |")
        for module in sorted(package.glob("*.py")):
            if module.name != "__init__.py":
                lines.append(f"| `{rel}/{module.name}` | {_summary(module)} |")
    return "\n".join(lines) + "\n"


def render_page(text: str, table: str) -> str:
    """``text`` with the region between the markers replaced by ``table``."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"{PAGE.name}: expected one {START!r} followed by one {END!r}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the page differs from the tree")
    args = parser.parse_args(argv)
    text = PAGE.read_text(encoding="utf-8")
    wanted = render_page(text, module_table(ROOT / "src"))
    if args.check:
        if wanted != text:
            print(f"{PAGE.relative_to(ROOT)} is stale: run python scripts/docs_architecture.py", file=sys.stderr)
            return 1
        return 0
    if wanted != text:
        PAGE.write_text(wanted, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
