"""Fixtures shared by these tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _simulator_result_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests download from the embedded simulator on 127.0.0.1, which the download policy refuses
    # unless told: told here, for these tests only (child processes inherit it).
    monkeypatch.setenv("SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS", "1")
