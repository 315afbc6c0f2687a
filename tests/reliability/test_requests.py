"""≥ 10,000 invalid generation requests refused before the network, ≥ 10,000 valid ones sent exactly once.

Bodies come from a seeded generator that builds valid bodies and breaks one
field at a time (:mod:`.bodies`), plus a smaller hypothesis run whose
strategies draw every field from a mix of good and bad values. The oracle is
the bundled spec through ``jsonschema`` (formats checked) plus
``_rules.check_request``, never the client's own validators. Each case goes
through ``SeedreamAPI.create_generation_from_body``; a share also through the
keyword API (``create_generation``), through ``AsyncSeedreamAPI`` and through
the generated client alone (``ImageGenerationRequest.from_dict`` and the
generated endpoint function), which must judge exactly as the oracle too. The
transport counts requests: a refusal must have made none, an acceptance
exactly one, carrying the body unchanged.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seedream_client import AuthenticatedClient, models
from seedream_client.api.image_generation import create_image_generation
from seedream_client.errors import ConstraintViolation

from seedream import AsyncSeedreamAPI, RequestValidationError, SeedreamAPI
from seedream._rules import RATIOS
from seedream.testing._spec_cases import success_body

from .bodies import INTERNAL_HOSTS, MODEL, PUBLIC_HOSTS, mutated_body, oracle_valid, valid_body
from .conftest import Figures, SecretWitness
from .helpers import SENTINEL_KEY

pytestmark = pytest.mark.reliability

CREATED = json.dumps(success_body("createImageGeneration")).encode()
_KEYWORDS = ("n", "size", "quality", "image_urls", "callback_url", "prompt_priority")
# SeedreamAPI with a whole body, its keyword API, the async twin, the generated client (from_dict + endpoint).
PATHS = ("body", "keywords", "async", "generated")


class Wire:
    """A transport that keeps every request and answers each with the spec's 200 example."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(200, content=CREATED, headers={"content-type": "application/json"})


def as_keywords(body: Any) -> dict[str, Any] | None:
    """The ``create_generation`` keywords that build ``body``, or None when the keyword API cannot express it."""
    if not isinstance(body, dict) or body.get("model") != MODEL or not isinstance(body.get("prompt"), str):
        return None
    keywords: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("model", "prompt"):
            continue
        if key in _KEYWORDS:
            if value is None:  # None means "not given" to the keyword API
                return None
            keywords[key] = value
        elif key == "model_params":
            if not isinstance(value, dict) or not value or set(value) - {"output_format", "tools"}:
                return None
            if "tools" in value:
                if value["tools"] != [{"type": "web_search"}]:
                    return None
                keywords["web_search"] = True
            if "output_format" in value:
                if value["output_format"] is None:
                    return None
                keywords["output_format"] = value["output_format"]
        else:
            extra[key] = value
    if extra:
        keywords["extra_body"] = extra
    return keywords


def _root(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


class Judge:
    """Runs one body through a client, compares the outcome with the oracle, and counts."""

    def __init__(self, wire: Wire, witness: SecretWitness) -> None:
        self.wire = wire
        self.witness = witness
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []

    def _fail(self, text: str) -> None:
        self.counts["problems"] += 1
        if len(self.problems) < 20:
            self.problems.append(text)

    def check(
        self, body: Any, send: Callable[[], object], *, path: str, blame: frozenset[str] | None, label: str
    ) -> None:
        """``send()`` makes the client call for ``body``; ``blame`` lists the fields a refusal may name."""
        valid = oracle_valid(body)
        self.wire.sent.clear()
        try:
            send()
        except (RequestValidationError, ConstraintViolation) as error:
            self.witness.see_error(error)
            if valid:
                self._fail(f"{label}: refused a valid body ({error}): {body!r:.300}")
            elif self.wire.sent:
                self._fail(f"{label}: refused but {len(self.wire.sent)} request(s) left: {body!r:.300}")
            elif blame is not None and _root(error.field) not in blame:
                self._fail(f"{label}: the error blames {error.field!r}, expected one of {sorted(blame)}")
            elif not error.rule or error.field not in str(error):
                self._fail(f"{label}: the message does not name the field and the rule: {error}")
            else:
                self.counts["refused"] += 1
                self.counts[f"refused via {path}"] += 1
            return
        except Exception as error:  # anything else is a finding, reported with its body
            self._fail(f"{label}: {type(error).__name__}: {error} for {body!r:.300}")
            return
        sent = self.wire.sent
        if not valid:
            self._fail(f"{label}: sent an invalid body: {body!r:.300}")
        elif len(sent) != 1:
            self._fail(f"{label}: a valid body left {len(sent)} times")
        elif json.loads(sent[0].content) != body:
            self._fail(f"{label}: the body changed on the way: {sent[0].content!r:.300}")
        else:
            self.counts["accepted"] += 1
            self.counts[f"accepted via {path}"] += 1


class Clients:
    """The sync client, its async twin (on a private event loop) and the generated client, on one counting transport."""

    def __init__(self, wire: Wire) -> None:
        transport = httpx.MockTransport(wire)
        self.loop = asyncio.new_event_loop()
        self.api = SeedreamAPI(SENTINEL_KEY, transport=transport)
        self.aapi = AsyncSeedreamAPI(SENTINEL_KEY, transport=transport)
        self.generated = AuthenticatedClient(
            base_url="http://127.0.0.1:9", token=SENTINEL_KEY, httpx_args={"transport": transport}
        )

    def sender(self, body: Any, path: str) -> Callable[[], object]:
        if path == "generated":
            return lambda: create_image_generation.sync_detailed(
                client=self.generated, body=models.ImageGenerationRequest.from_dict(body)
            )
        if path == "keywords":
            keywords = as_keywords(body)
            assert keywords is not None
            return lambda: self.api.create_generation(body["prompt"], **keywords)
        if path == "async":
            return lambda: self.loop.run_until_complete(self.aapi.create_generation_from_body(body))
        return lambda: self.api.create_generation_from_body(body)

    def close(self) -> None:
        self.generated.get_httpx_client().close()
        self.api.close()
        self.loop.run_until_complete(self.aapi.close())
        self.loop.close()


def test_ten_thousand_invalid_requests_are_refused_before_the_network_and_ten_thousand_valid_ones_sent_once(
    thorough: bool, figures: Figures, witness: SecretWitness
) -> None:
    target = 50_000 if thorough else 10_000
    rng = random.Random(7_000_001)
    wire = Wire()
    judge = Judge(wire, witness)
    mutations: Counter[str] = Counter()
    ineffective = 0
    clients = Clients(wire)
    witness.see(repr(clients.api), repr(clients.aapi))
    started = time.perf_counter()
    try:
        while (judge.counts["accepted"] < target or judge.counts["refused"] < target) and judge.counts[
            "problems"
        ] < 200:
            want_valid = judge.counts["refused"] >= target or (judge.counts["accepted"] < target and rng.random() < 0.5)
            blame: frozenset[str] | None = None
            if want_valid:
                label, body = "valid", valid_body(rng)
            else:
                label, blame, body = mutated_body(rng)
                if oracle_valid(body):
                    ineffective += 1  # the mutation happened to leave the body valid
                    blame = None
                else:
                    mutations[label] += 1
            path = rng.choices(["body", "keywords", "async", "generated"], weights=[6, 3, 1, 3])[0]
            if path == "keywords" and as_keywords(body) is None:
                path = "body"
            judge.check(body, clients.sender(body, path), path=path, blame=blame, label=label)
    finally:
        clients.close()
    counts = judge.counts
    figures.update(
        refused=counts["refused"],
        accepted=counts["accepted"],
        refused_via=", ".join(f"{p} {counts['refused via ' + p]}" for p in PATHS),
        accepted_via=", ".join(f"{p} {counts['accepted via ' + p]}" for p in PATHS),
        mutation_kinds=len(mutations),
        mutations_that_stayed_valid=ineffective,
        problems=counts["problems"],
        cases_per_second=round((counts["refused"] + counts["accepted"]) / (time.perf_counter() - started)),
    )
    assert judge.problems == []
    assert counts["refused"] >= target and counts["accepted"] >= target
    assert all(mutations[name] >= target // 200 for name in mutations), mutations  # every kind well exercised


# -- a hypothesis run over the same property ------------------------------------------------------------------------

_GOOD_URLS = st.sampled_from(["https://cdn.example.com/a.png", "https://8.8.8.8/b.jpg", "http://x.example/c.jpg"])
_BAD_URLS = st.sampled_from(["not a uri", "", "https://[::1/x", "cdn.example.com/a.png"]) | st.integers()
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def _wxh(draw: st.DrawFn) -> str:
    width = draw(st.integers(480, 12_288))
    low, high = max(-(-3_686_400 // width), -(-width // 16)), min(9_437_184 // width, width * 16)
    return f"{width}x{draw(st.integers(low, high))}" if low <= high else "2048x2048"


# Per field: values the spec and the rules accept, and values they refuse.
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "n": st.integers(1, 5),
    "size": st.sampled_from(RATIOS) | _wxh(),
    "quality": st.sampled_from(["2K", "3K"]),
    "prompt_priority": st.just("standard"),
    "image_urls": st.lists(_GOOD_URLS, max_size=10),
    "model_params": st.fixed_dictionaries(
        {}, optional={"output_format": st.sampled_from(["png", "jpeg"]), "tools": st.just([{"type": "web_search"}])}
    ),
    "callback_url": st.builds("https://{}/hook".format, st.sampled_from(PUBLIC_HOSTS)),
    "extra_field": _JSON.filter(lambda value: value == value),  # NaN alone cannot be sent as JSON
}
BAD: dict[str, st.SearchStrategy[Any]] = {
    "n": st.integers(-2, 0) | st.integers(16, 10**6) | st.floats() | st.sampled_from(["2", True, None]),
    "size": st.sampled_from(["16:10", "auto ", "0x100", ""])
    | st.builds("{}x{}".format, st.integers(1, 20_000), st.integers(1, 20_000))
    | st.text(max_size=12),
    "quality": st.sampled_from(["4K", "2k", None, 2]),
    "prompt_priority": st.sampled_from(["fast", None, 1]),
    "image_urls": st.lists(_GOOD_URLS | _BAD_URLS, min_size=1, max_size=16) | _GOOD_URLS,
    "model_params": st.fixed_dictionaries(
        {},
        optional={
            "output_format": st.sampled_from(["gif", None, 1]),
            "tools": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["x", None])}), min_size=1, max_size=2),
        },
    )
    | _JSON,
    "callback_url": st.builds(
        "{}://{}/hook".format, st.sampled_from(["https", "HTTPS", "http", "ftp"]), st.sampled_from(INTERNAL_HOSTS)
    )
    | st.text(max_size=10),
    "extra_field": st.sampled_from([float("nan"), float("inf")]),
}


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    """Mostly objects with a few fields, each usually good, sometimes bad; now and then not an object at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(_JSON.filter(lambda value: not isinstance(value, dict)))
    body: dict[str, Any] = {"model": MODEL, "prompt": draw(st.text(max_size=40))}
    if draw(st.integers(0, 9)) == 0:
        broken = draw(st.sampled_from(["model", "prompt"]))
        body[broken] = draw(st.sampled_from([None, 1, "x" * 2001, "doubao-seedream-4.0", []]))
    for name in GOOD:
        if draw(st.booleans()):
            body[name] = draw(BAD[name] if draw(st.integers(0, 7)) == 0 else GOOD[name])
    return body


def test_hypothesis_bodies_are_sent_exactly_when_the_oracle_says_valid(
    thorough: bool, figures: Figures, witness: SecretWitness
) -> None:
    wire = Wire()
    judge = Judge(wire, witness)
    examples = 10_000 if thorough else 1_000

    clients = Clients(wire)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=bodies(), path=st.sampled_from(PATHS))
    def run(body: Any, path: str) -> None:
        if path == "keywords" and as_keywords(body) is None:
            path = "body"
        before = judge.counts["problems"]
        judge.check(body, clients.sender(body, path), path=path, blame=None, label="hypothesis")
        assert judge.counts["problems"] == before, judge.problems[-1]  # fail (and shrink) on a disagreement

    try:
        run()
    finally:
        clients.close()
    figures.update(refused=judge.counts["refused"], accepted=judge.counts["accepted"], examples=examples)
    assert judge.counts["refused"] > examples // 5 and judge.counts["accepted"] > examples // 5
