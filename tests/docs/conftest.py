"""Lists the documentation examples left out of the run at the end of the session (never silently)."""

from __future__ import annotations

import pytest

from .examples import DOCUMENTS, EXAMPLE_LANGUAGES, blocks

_COLLECTED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[_COLLECTED] = any("test_examples.py" in item.nodeid for item in items)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not config.stash.get(_COLLECTED, False):
        return
    examples = [b for doc in DOCUMENTS for b in blocks(doc) if b.lang in EXAMPLE_LANGUAGES]
    left_out = [b for b in examples if b.not_run is not None]
    terminalreporter.section("documentation examples")
    terminalreporter.line(f"{len(examples) - len(left_out)} run, {len(left_out)} not run (marked in the markdown):")
    for block in left_out:
        terminalreporter.line(f"  {block.id} ({block.lang}): {block.not_run}")
