"""The simulator's body judge: ECMA-262 patterns (the rule package's), strict URIs, reading before charging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from seedream.simulator import SimulatorApp
from seedream_rules import pattern as ecma_regex  # the one ECMA-262 pattern translation

from .helpers import body

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"^a$", "a", True),
        (r"^a$", "a\n", False),  # Python's `$` would match before the newline
        (r"^a\$$", "a$", True),  # an escaped dollar stays a literal
        (r"^[$]$", "$", True),  # so does one in a class
        (r"^[]$]$", "]", True),  # a leading ] is a class member, not the end of the class
        (r"^(x|y)$", "y\n", False),
    ],
)
def test_ecma_regex_makes_dollar_the_end_of_the_text(pattern: str, text: str, matches: bool) -> None:
    assert bool(ecma_regex(pattern).search(text)) is matches


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"size": "2048x2048\n"}, "size"),
        ({"size": "auto\n"}, "size"),
        ({"size": "100x100\n"}, "size"),
        ({"callback_url": "https://hooks.example.com/x\n"}, "callback_url"),
        ({"image_urls": ["https://cdn.example.com/a.png\n"]}, "image_urls[0]"),
    ],
)
async def test_a_value_passing_only_by_a_trailing_newline_is_refused_before_any_charge(
    make_app: Callable[..., SimulatorApp],
    client_for: Callable[[SimulatorApp], httpx.AsyncClient],
    fields: dict[str, Any],
    param: str,
) -> None:
    app = make_app()
    response = await client_for(app).post("/v1/images/generations", json=body(**fields))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    counters = app.counters()
    assert (counters["tasks_created"], counters["credits_charged"]) == (0, 0.0)


@pytest.mark.parametrize("host", ["[", "a b", "x:99999", "[::1", "h:0"])
async def test_a_host_header_that_is_no_host_gets_400_and_creates_nothing(
    make_app: Callable[..., SimulatorApp], client_for: Callable[[SimulatorApp], httpx.AsyncClient], host: str
) -> None:
    app = make_app()
    client = client_for(app)
    created = await client.post("/v1/images/generations", json=body(), headers={"host": host})
    fetched = await client.get("/v1/tasks/task-unified-1-x", headers={"host": host})
    assert (created.status_code, fetched.status_code) == (400, 400)
    assert app.counters()["tasks_created"] == 0
