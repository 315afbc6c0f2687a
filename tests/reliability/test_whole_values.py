"""Hostile values refused whole by every entry point; the simulator answers them 400, never 5xx.

The corpus is :func:`seedream.testing._spec_cases.hostile_request_cases`, read from
the bundled spec: every constrained string field with line breaks, NUL,
spaces and other invisible characters appended or prepended (Python's ``$``
matches before a final ``\\n``), every string field with surrogates, URLs with
ports beyond 65535, callback hosts that reach internal addresses (IPv6
embeddings of IPv4, site-local, NAT64, 6to4, Teredo, ...), and surrogates or
non-finite numbers in extra fields. Each body goes through the generated
client, ``SeedreamAPI``, ``AsyncSeedreamAPI`` and ``Seedream.submit`` (over
transports that count requests), and the CLI for the fields it has options
for (against a simulator on 127.0.0.1): 0 accepted, 0 raw errors, every
refusal naming the field. Then the same bodies, and raw junk, go straight to
the simulator: 0 answers other than 400.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from seedream_client import AuthenticatedClient, models
from seedream_client.api.image_generation import create_image_generation
from seedream_client.errors import ConstraintViolation
from typer.testing import CliRunner

from seedream import AsyncSeedreamAPI, RequestValidationError, Seedream, SeedreamAPI
from seedream._cli import _FLAGS as _CLI_FLAGS
from seedream._cli import app as cli_app
from seedream.simulator import SimulatorConfig, create_app, run_simulator
from seedream.testing._spec_cases import HostileCase, hostile_request_cases, success_body

from .bodies import mutated_body, oracle_valid, valid_body
from .conftest import Figures, SecretWitness
from .helpers import SENTINEL_KEY
from .test_requests import as_keywords

pytestmark = pytest.mark.reliability

CASES = hostile_request_cases()
CREATED = json.dumps(success_body("createImageGeneration")).encode()
BASE = "http://127.0.0.1:9"
# CLI options for request fields (the CLI has no callback or extra-field options).
CLI_OPTIONS = {"size": "--size", "quality": "--quality", "image_urls[0]": "--image-url"}
CLI_OPTIONS["model_params.output_format"] = "--output-format"


class Wire:
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(200, content=CREATED, headers={"content-type": "application/json"})


class Tally:
    """Outcomes per entry point: refused (before the network, naming the field), accepted, or a finding."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []

    def run(self, path: str, case: HostileCase, call: Callable[[], object]) -> None:
        self.wire.sent.clear()
        self.counts[f"{path} cases"] += 1
        try:
            call()
        except (RequestValidationError, ConstraintViolation) as error:
            if self.wire.sent:
                self._problem(f"{path} {case.id}: refused after {len(self.wire.sent)} request(s)")
            elif error.field != case.field or not error.rule:
                self._problem(f"{path} {case.id}: blames {error.field!r}, expected {case.field!r}")
            else:
                self.counts[f"{path} refused"] += 1
            return
        except Exception as error:
            self._problem(f"{path} {case.id}: raw {type(error).__name__}: {error!r:.200}")
            return
        self.counts[f"{path} accepted"] += 1
        self._problem(f"{path} {case.id}: accepted, {len(self.wire.sent)} request(s) sent")

    def _problem(self, text: str) -> None:
        self.counts["problems"] += 1
        if len(self.problems) < 20:
            self.problems.append(text)


def test_every_hostile_value_is_refused_before_the_network_by_every_entry_point(
    figures: Figures, witness: SecretWitness, tmp_path: Path
) -> None:
    wire = Wire()
    tally = Tally(wire)
    transport = httpx.MockTransport(wire)
    loop = asyncio.new_event_loop()
    generated = AuthenticatedClient(base_url=BASE, token=SENTINEL_KEY, httpx_args={"transport": transport})
    api = SeedreamAPI(SENTINEL_KEY, transport=transport)
    aapi = AsyncSeedreamAPI(SENTINEL_KEY, transport=transport)
    workflow = Seedream(SENTINEL_KEY, transport=transport, ledger=tmp_path / "ledger.sqlite3")
    try:
        for case in CASES:
            body = case.body
            tally.run(
                "generated",
                case,
                lambda b=body: create_image_generation.sync_detailed(
                    client=generated, body=models.ImageGenerationRequest.from_dict(b)
                ),
            )
            tally.run("SeedreamAPI", case, lambda b=body: api.create_generation_from_body(b))
            tally.run(
                "AsyncSeedreamAPI", case, lambda b=body: loop.run_until_complete(aapi.create_generation_from_body(b))
            )
            keywords = as_keywords(body)
            if keywords is not None:
                tally.run("Seedream.submit", case, lambda b=body, k=keywords: workflow.submit(b["prompt"], **k))
    finally:
        generated.get_httpx_client().close()
        api.close()
        loop.run_until_complete(aapi.close())
        loop.close()
        workflow.close()
    counts = tally.counts
    paths = ("generated", "SeedreamAPI", "AsyncSeedreamAPI", "Seedream.submit")
    figures.update(
        cases=len(CASES),
        **{f"{p} refused": f"{counts[p + ' refused']}/{counts[p + ' cases']}" for p in paths},
        accepted=sum(counts[p + " accepted"] for p in paths),
        problems=counts["problems"],
    )
    assert tally.problems == []
    assert all(counts[p + " accepted"] == 0 for p in paths)
    assert all(counts[p + " refused"] == counts[p + " cases"] > 0 for p in paths)


def _cli_cases() -> list[tuple[HostileCase, list[str]]]:
    out = []
    for case in CASES:
        value: Any = case.body
        for part in case.field.replace("[0]", ".0").split("."):
            value = (
                value[int(part)] if isinstance(value, list) else value.get(part) if isinstance(value, dict) else None
            )
        if case.field == "prompt":
            out.append((case, ["generate", value, "--no-wait", "--json"]))
        elif case.field in CLI_OPTIONS and isinstance(value, str):
            out.append((case, ["generate", "a lake at dawn", CLI_OPTIONS[case.field], value, "--no-wait", "--json"]))
    return out


def _cli_name(field: str) -> str:
    """How the command line names a request field in its errors (``--size``, ``--image-url #2``, ``PROMPT``)."""
    name, bracket, rest = field.partition("[")
    flag = _CLI_FLAGS.get(name)
    if flag is None:
        return field
    return f"{flag} #{int(rest.rstrip(']')) + 1}" if bracket and rest.rstrip("]").isdigit() else flag


def test_the_cli_refuses_every_hostile_value_it_can_express_with_one_error_line(
    figures: Figures, tmp_path: Path
) -> None:
    cases = _cli_cases()
    refused = 0
    problems: list[str] = []
    with run_simulator(SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,))) as simulator:
        env = {
            "EVOLINK_API_KEY": SENTINEL_KEY,
            "SEEDREAM_BASE_URL": simulator.base_url,
            "SEEDREAM_LEDGER": str(tmp_path / "cli.sqlite3"),
        }
        for case, args in cases:
            result = CliRunner().invoke(cli_app, args, env=env)
            error = result.exception
            if error is not None and not isinstance(error, SystemExit):
                problems.append(f"{case.id}: raw {type(error).__name__}: {error!r:.200}")
            elif result.exit_code != 2 or _cli_name(case.field) not in result.stderr or "Traceback" in result.stderr:
                problems.append(f"{case.id}: exit {result.exit_code}, stderr {result.stderr!r:.200}")
            else:
                refused += 1
        created = simulator.counters()["tasks_created"]
    figures.update(cli_cases=len(cases), cli_refused=refused, tasks_created=created)
    assert problems == []
    assert refused == len(cases) > 0 and created == 0


def _junk() -> list[bytes]:
    return [
        b"",
        b"{",
        b"null",
        b"[]",
        b'"x"',
        b"\xff\xfe{}",
        b'{"model": "doubao-seedream-5.0-lite", "prompt": "\\ud800"}',
        b'{"model": "doubao-seedream-5.0-lite", "prompt": "x", "n": NaN}',
        b'{"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "2048x2048\\n"}',
        b'{"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "auto\\n", "quality": "2K\\n"}',
        b'{"model": "doubao-seedream-5.0-lite", "prompt": "x", "image_urls": ["https://e.com:99999/a.png"]}',
        b"[" * 100_000,
        b'{"a":' * 10_000,
        b'{"model": "doubao-seedream-5.0-lite", "prompt": "x", "n": 1e999}',
        b'{"model": "doubao-seedream-5.0-lite", "prompt": "x", "n": 100000000000000000000000000000000}',
    ]


def test_the_simulator_answers_every_hostile_body_400_never_5xx(figures: Figures) -> None:
    bodies = [json.dumps(case.body, ensure_ascii=True).encode() for case in CASES] + _junk()
    statuses: Counter[int] = Counter()
    bad: list[str] = []

    async def run() -> None:
        # allow_loopback=False: the API's own rules (with it, the simulator accepts internal callback hosts).
        sim = create_app(SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), allow_loopback=False))
        headers = {"Authorization": f"Bearer {SENTINEL_KEY}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url="http://sim") as client:
            for raw in bodies:
                response = await client.post("/v1/images/generations", content=raw, headers=headers)
                statuses[response.status_code] += 1
                if response.status_code != 400 and len(bad) < 20:
                    bad.append(f"{response.status_code} for {raw[:120]!r}: {response.text[:200]}")
        created = sim.counters()["tasks_created"]
        statuses[-1] = created  # tasks created: must stay 0

    asyncio.run(run())
    created = statuses.pop(-1)
    figures.update(bodies=len(bodies), answered_400=statuses[400], other=sum(statuses.values()) - statuses[400])
    assert bad == [] and created == 0


def _wire_form(body: Any) -> bytes:
    """``body`` as a careless client would send it: escaped surrogates, NaN literals, odd types as strings."""
    return json.dumps(body, ensure_ascii=True, allow_nan=True, default=repr).encode()


def test_the_simulator_answers_ten_thousand_mutated_bodies_by_the_oracle_never_5xx(
    thorough: bool, figures: Figures
) -> None:
    target = 50_000 if thorough else 10_000
    rng = random.Random(10_000_001)
    statuses: Counter[int] = Counter()
    bad: list[str] = []
    judged = Counter[str]()

    async def run() -> int:
        config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), allow_loopback=False, outbound="none")
        sim = create_app(config)
        headers = {"Authorization": f"Bearer {SENTINEL_KEY}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url="http://sim") as client:
            for i in range(target):
                body = valid_body(rng) if i % 5 == 0 else mutated_body(rng)[2]
                raw = _wire_form(body)
                try:
                    valid = oracle_valid(json.loads(raw))  # judged as the server sees it
                except ValueError:
                    valid = False
                judged["valid" if valid else "invalid"] += 1
                response = await client.post("/v1/images/generations", content=raw, headers=headers)
                statuses[response.status_code] += 1
                expected = 200 if valid else 400
                if response.status_code != expected and len(bad) < 20:
                    bad.append(f"{response.status_code} (expected {expected}) for {raw[:160]!r}: {response.text[:160]}")
        return int(sim.counters()["tasks_created"])

    created = asyncio.run(run())
    figures.update(
        bodies=target,
        valid=judged["valid"],
        invalid=judged["invalid"],
        answered_5xx=sum(n for status, n in statuses.items() if status >= 500),
        statuses=", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())),
        tasks_created=created,
    )
    assert bad == []
    assert created == judged["valid"] == statuses[200] and statuses[400] == judged["invalid"]
