"""A full bench run rewrites only the table region of docs/benchmarks.md (bench/_docs_page.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench._docs_page import END, START, replace_table, update_page
from bench.run import FIGURES, is_full_run

ROOT = Path(__file__).resolve().parents[2]
FAKE_TABLE = "Measured today on a fake machine.\n\n| # | measurement |\n|---|---|\n| 1 | fake | \n"
PAGE = f"# Benchmarks\n\nProse before.\n\n{START}\n\n| old | table |\n\n{END}\n\n## Pictures\n\nProse after.\n"


def test_the_table_between_the_markers_is_replaced_and_the_prose_kept() -> None:
    new = replace_table(PAGE, FAKE_TABLE)

    assert new.startswith("# Benchmarks\n\nProse before.\n\n" + START)
    assert new.endswith(END + "\n\n## Pictures\n\nProse after.\n")
    assert "| old | table |" not in new
    assert FAKE_TABLE.strip() in new


def test_rewriting_with_the_same_table_changes_nothing() -> None:
    once = replace_table(PAGE, FAKE_TABLE)
    assert replace_table(once, FAKE_TABLE) == once


@pytest.mark.parametrize(
    "page",
    [
        "# no markers\n",
        f"{START}\nonly a start\n",
        f"{END}\nreversed\n{START}\n",
        f"{START}\n{END}\n{START}\n{END}\n",
    ],
    ids=["none", "no-end", "reversed", "twice"],
)
def test_a_page_without_one_pair_of_markers_in_order_is_refused(page: str) -> None:
    with pytest.raises(ValueError, match="bench-table"):
        replace_table(page, FAKE_TABLE)


def test_update_page_writes_only_when_the_table_changed(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text(PAGE, encoding="utf-8")

    assert update_page(path, FAKE_TABLE) is True
    written = path.read_text(encoding="utf-8")
    assert update_page(path, FAKE_TABLE) is False
    assert path.read_text(encoding="utf-8") == written


def test_the_benchmarks_page_has_its_markers_and_its_table_survives_a_rewrite() -> None:
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    table = page.split(START, 1)[1].split(END, 1)[0]
    assert table.strip().startswith("Measured ")
    assert replace_table(page, table) == page


def test_only_a_full_run_may_replace_the_table_on_the_page() -> None:
    every = list(FIGURES)
    assert is_full_run(quick=False, skip_suite=False, figures=every)
    assert is_full_run(quick=False, skip_suite=False, figures=every[::-1])
    assert not is_full_run(quick=True, skip_suite=False, figures=every)
    assert not is_full_run(quick=False, skip_suite=True, figures=every)
    assert not is_full_run(quick=False, skip_suite=False, figures=every[:2])
