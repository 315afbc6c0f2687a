"""Options shared by the whole test tree (a root conftest, so they work from the repo root too)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--thorough",
        action="store_true",
        default=False,
        help="reliability tests: run the large counts (also SEEDREAM_THOROUGH=1)",
    )
