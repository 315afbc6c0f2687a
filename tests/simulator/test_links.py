"""Result links work from completion until the link lifetime passes, then answer 403 like a CDN."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from seedream.simulator import ManualClock, SimulatorApp

from .helpers import body

pytestmark = pytest.mark.anyio

Make = Callable[..., SimulatorApp]
ClientFor = Callable[..., httpx.AsyncClient]


async def _completed_link(client: httpx.AsyncClient, clock: ManualClock) -> str:
    created = (await client.post("/v1/images/generations", json=body(prompt="[sim:duration=10]"))).json()
    clock.advance(10)
    task = (await client.get(f"/v1/tasks/{created['id']}")).json()
    link: str = task["results"][0]
    return link


async def test_link_works_until_its_lifetime_then_answers_403_expired(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    app = make_app(link_lifetime=60)
    client = client_for(app, headers={})  # links need no API key
    link = await _completed_link(client_for(app), clock)
    assert (await client.get(link)).status_code == 200
    clock.advance(59.9)
    assert (await client.get(link)).status_code == 200
    clock.advance(0.1)
    expired = await client.get(link)
    assert expired.status_code == 403
    assert b"expired" in expired.content
    assert app.counters()["files"] == {"expired": 1, "served": 2}


async def test_link_lifetime_is_in_simulated_seconds_scaled_by_time_scale(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    app = make_app(time_scale=0.01, link_lifetime=86_400)  # 24 simulated hours = 864 real seconds
    client = client_for(app)
    created = (await client.post("/v1/images/generations", json=body(prompt="[sim:duration=10]"))).json()
    clock.advance(0.1)
    link = (await client.get(f"/v1/tasks/{created['id']}")).json()["results"][0]
    clock.advance(863.8)
    assert (await client.get(link)).status_code == 200
    clock.advance(0.2)
    assert (await client.get(link)).status_code == 403


async def test_the_task_still_lists_expired_links(make_app: Make, client_for: ClientFor, clock: ManualClock) -> None:
    client = client_for(make_app(link_lifetime=1))
    created = (await client.post("/v1/images/generations", json=body(prompt="[sim:duration=1]"))).json()
    clock.advance(100)
    task = (await client.get(f"/v1/tasks/{created['id']}")).json()
    assert task["status"] == "completed" and len(task["results"]) == 1
    assert (await client.get(task["results"][0])).status_code == 403


async def test_unknown_file_gets_404(make_app: Make, client_for: ClientFor) -> None:
    client = client_for(make_app())
    assert (await client.get("/__simulator__/files/0123456789abcdef.png")).status_code == 404


async def test_links_use_the_configured_public_base_url(
    make_app: Make, client_for: ClientFor, clock: ManualClock
) -> None:
    client = client_for(make_app(public_base_url="https://cdn.sim.test/"))
    link = await _completed_link(client, clock)
    assert link.startswith("https://cdn.sim.test/__simulator__/files/")
