from __future__ import annotations

from collections.abc import Iterator

import pytest

from seedream import SeedreamAPI

from .helpers import SENTINEL_KEY, Recorder


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The user's real key or base URL must never leak into a test (or a test into them).
    monkeypatch.delenv("EVOLINK_API_KEY", raising=False)
    monkeypatch.delenv("SEEDREAM_BASE_URL", raising=False)
    # Real-socket tests talk to 127.0.0.1 only; no proxy may route them anywhere else.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def api(recorder: Recorder) -> Iterator[SeedreamAPI]:
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as client:
        yield client
