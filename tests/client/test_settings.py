"""One place for settings: every client resolves key, base URL and opt-outs by the same rules."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

import seedream
from seedream import AsyncSeedream, ConfigurationError, Seedream, SeedreamAPI
from seedream._settings import (
    ALLOW_INTERNAL_RESULT_HOSTS_ENV,
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    LEDGER_ENV,
    resolve_allow_internal_result_hosts,
    resolve_base_url,
)

SRC = Path(seedream.__file__).resolve().parent


def test_every_environment_name_is_spelt_only_in_the_settings_module() -> None:
    names = (API_KEY_ENV, BASE_URL_ENV, LEDGER_ENV, ALLOW_INTERNAL_RESULT_HOSTS_ENV, DEFAULT_BASE_URL)
    for path in SRC.rglob("*.py"):
        if path.name == "_settings.py" or "conformance" in path.parts:  # the suite's own tests name them as text
            continue
        text = path.read_text(encoding="utf-8")
        for name in names:
            assert f'"{name}"' not in text, f"{path.relative_to(SRC)} spells {name}"


@pytest.mark.parametrize("bad", ["ftp://example.test", "not a url", "https://example.test/?q=1", "/v1"])
def test_the_high_level_clients_refuse_a_bad_base_url_as_the_guarded_one_does(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="base_url") as low:
        SeedreamAPI("sk-test", base_url=bad)
    for make in (Seedream, AsyncSeedream):
        with pytest.raises(ConfigurationError, match="base_url") as high:
            make("sk-test", base_url=bad, ledger=tmp_path / f"{make.__name__}.sqlite3")
        assert str(high.value) == str(low.value)


def test_base_url_comes_from_the_argument_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    assert resolve_base_url(None) == DEFAULT_BASE_URL
    monkeypatch.setenv(BASE_URL_ENV, "http://127.0.0.1:9/")
    assert resolve_base_url(None) == "http://127.0.0.1:9"
    assert resolve_base_url("http://127.0.0.2:9") == "http://127.0.0.2:9"
    assert re.fullmatch(r"https://[a-z.]+", DEFAULT_BASE_URL) and httpx.URL(DEFAULT_BASE_URL).host


def test_internal_result_hosts_are_allowed_by_the_argument_else_by_the_environment_set_to_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ALLOW_INTERNAL_RESULT_HOSTS_ENV, raising=False)
    assert resolve_allow_internal_result_hosts(None) is False
    monkeypatch.setenv(ALLOW_INTERNAL_RESULT_HOSTS_ENV, "yes")
    assert resolve_allow_internal_result_hosts(None) is False
    monkeypatch.setenv(ALLOW_INTERNAL_RESULT_HOSTS_ENV, "1")
    assert resolve_allow_internal_result_hosts(None) is True
    assert resolve_allow_internal_result_hosts(False) is False
