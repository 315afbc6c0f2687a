"""The architecture page matches the code: its module table is the tree under src/, its layout names real paths."""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path

import pytest

from .examples import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

import docs_architecture

PAGE = ROOT / "docs" / "architecture.md"


def test_the_module_table_is_the_tree_under_src() -> None:
    text = PAGE.read_text(encoding="utf-8")
    wanted = docs_architecture.render_page(text, docs_architecture.module_table(ROOT / "src"))
    assert text == wanted, "docs/architecture.md is stale: run python scripts/docs_architecture.py"


def test_every_python_file_under_src_has_a_row() -> None:
    table = docs_architecture.module_table(ROOT / "src")
    rows = set(re.findall(r"^\| \*{0,2}`([^`]+)`", table, re.M))
    files = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.py")}
    expected = {f for f in files if not f.endswith("/__init__.py")} | {
        f.removesuffix("__init__.py") for f in files if f.endswith("/__init__.py")
    }
    assert rows == expected


def test_a_module_added_to_the_tree_appears_with_its_docstring(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text('"""The package."""\n', encoding="utf-8")
    (package / "_new.py").write_text('"""A new module | with a pipe.\n\nMore text."""\n', encoding="utf-8")
    (package / "_bare.py").write_text("x = 1\n", encoding="utf-8")

    table = docs_architecture.module_table(tmp_path)

    assert "| **`pkg/`** | The package. |" in table
    assert "| `pkg/_new.py` | A new module \\| with a pipe. |" in table  # first paragraph only, pipe escaped
    assert "| `pkg/_bare.py` | (no module docstring) |" in table


def test_rewriting_keeps_the_text_around_the_markers_and_refuses_a_page_without_them() -> None:
    page = f"before\n{docs_architecture.START}\nold table\n{docs_architecture.END}\nafter\n"
    new = docs_architecture.render_page(page, "| new |\n")
    assert new == f"before\n{docs_architecture.START}\n| new |\n{docs_architecture.END}\nafter\n"
    with pytest.raises(ValueError, match="expected one"):
        docs_architecture.render_page("no markers\n", "| new |\n")


def _layout_paths() -> list[str]:
    listing = PAGE.read_text(encoding="utf-8").split("```text\n", 1)[1].split("```", 1)[0]
    return re.findall(r"^(\S+)\s", listing, re.M)


def test_every_path_in_the_layout_listing_exists() -> None:
    paths = _layout_paths()
    assert len(paths) >= 10, paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"docs/architecture.md lists paths that do not exist: {missing}"


def test_every_top_level_directory_is_in_the_layout_listing() -> None:
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    ignored = [".git", *(line.strip().rstrip("/") for line in lines if line.strip())]
    directories = {
        d.name for d in ROOT.iterdir() if d.is_dir() and not any(fnmatch.fnmatch(d.name, p) for p in ignored)
    }
    listed = {p.split("/", 1)[0] for p in _layout_paths()}
    assert directories - listed == set(), "top-level directories missing from docs/architecture.md's layout"
