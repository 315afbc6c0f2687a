"""The generated client alone refuses what ``SeedreamAPI`` refuses, with the same field and rule id.

One corpus of invalid bodies goes through both layers: the generated package
(``ImageGenerationRequest.from_dict`` + ``create_image_generation``) and the
guarded client (``SeedreamAPI.create_generation_from_body``), each over an
``httpx.MockTransport`` that records requests. Both must refuse before the
network, naming the same field and rule id; valid bodies must leave each
layer exactly once, unchanged. The corpus: both sides of every spec
constraint (:func:`constraint_cases`), both sides of every prose rule, and the
hostile values of :func:`hostile_request_cases` (whole-value patterns,
surrogates, ports, IPv6 forms of internal hosts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from seedream_client import AuthenticatedClient, models
from seedream_client.api.image_generation import create_image_generation
from seedream_client.errors import ConstraintViolation

from seedream import RequestValidationError, SeedreamAPI
from seedream.testing._spec_cases import constraint_cases, hostile_request_cases, request_example, success_body

BASE = "http://127.0.0.1:9"  # loopback: nothing could leave the machine even if the mock failed
KEY = "sk-conformance-agree"
CREATED = json.dumps(success_body("createImageGeneration")).encode()
URL = "https://cdn.example.com/ref.png"

# Both sides of every prose rule (the spec constraints come from constraint_cases).
RULE_CASES: list[tuple[str, dict[str, Any] | None, dict[str, Any], str]] = [
    ("size-pixel-range", {"size": "2560x1440"}, {"size": "2559x1440"}, "size"),
    ("size-aspect-range", {"size": "768x12288"}, {"size": "760x12288"}, "size"),
    ("references-plus-n", {"image_urls": [URL] * 5, "n": 10}, {"image_urls": [URL] * 5, "n": 11}, "n"),
    (
        "callback-host-not-internal",
        {"callback_url": "https://[2001:4860:4860::8888]/cb"},
        {"callback_url": "https://[::ffff:0:7f00:1]/cb"},
        "callback_url",
    ),
    ("json-text", {"prompt": "a lake 🌅"}, {"prompt": "a lake \ud83c"}, "prompt"),
]


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=CREATED, headers={"content-type": "application/json"})


Outcome = tuple[str, str | None, str | None, int]  # ("refused"|"sent"|"crashed: ...", field, rule id, requests)


def _through_generated(body: Any, recorder: Recorder) -> Outcome:
    recorder.requests.clear()
    client = AuthenticatedClient(base_url=BASE, token=KEY, httpx_args={"transport": httpx.MockTransport(recorder)})
    try:
        with client:
            model = models.ImageGenerationRequest.from_dict(body)
            create_image_generation.sync_detailed(client=client, body=model)
    except ConstraintViolation as exc:
        return "refused", exc.field, exc.rule_id, len(recorder.requests)
    except Exception as exc:  # a raw error is a finding: reported, not raised
        return f"crashed: {type(exc).__name__}", None, None, len(recorder.requests)
    return "sent", None, None, len(recorder.requests)


def _through_api(body: Any, recorder: Recorder) -> Outcome:
    recorder.requests.clear()
    try:
        with SeedreamAPI(KEY, base_url=BASE, transport=httpx.MockTransport(recorder)) as api:
            api.create_generation_from_body(body)
    except RequestValidationError as exc:
        return "refused", exc.field, exc.rule_id, len(recorder.requests)
    except Exception as exc:
        return f"crashed: {type(exc).__name__}", None, None, len(recorder.requests)
    return "sent", None, None, len(recorder.requests)


def _invalid_corpus() -> list[tuple[str, Any, str]]:
    base = request_example()
    corpus = [(f"spec:{c.id}", c.outside, c.field) for c in constraint_cases()]
    corpus += [(f"rule:{rid}", {**base, **outside}, field) for rid, _, outside, field in RULE_CASES]
    corpus += [(f"hostile:{c.id}", c.body, c.field) for c in hostile_request_cases()]
    return corpus


def _valid_corpus() -> list[tuple[str, Any]]:
    base = request_example()
    corpus = [(f"spec:{c.id}", c.inside) for c in constraint_cases() if c.inside is not None]
    corpus += [(f"rule:{rid}", {**base, **inside}) for rid, inside, _, _ in RULE_CASES if inside is not None]
    return corpus


INVALID = _invalid_corpus()
VALID = _valid_corpus()


@pytest.mark.parametrize(
    ("case", "body", "field"), INVALID, ids=[c[0].encode("ascii", "backslashreplace").decode() for c in INVALID]
)
def test_both_layers_refuse_before_the_network_with_the_same_field_and_rule_id(
    case: str, body: Any, field: str
) -> None:
    recorder = Recorder()
    generated = _through_generated(body, recorder)
    api = _through_api(body, recorder)
    assert generated == api, f"generated {generated} != SeedreamAPI {api}"
    assert generated[0] == "refused" and generated[3] == 0
    assert generated[1] == field


@pytest.mark.parametrize(("case", "body"), VALID, ids=[c[0] for c in VALID])
def test_both_layers_send_a_valid_body_once_unchanged(case: str, body: Any) -> None:
    for through in (_through_generated, _through_api):
        recorder = Recorder()
        outcome = through(body, recorder)
        assert outcome == ("sent", None, None, 1), through.__name__
        assert json.loads(recorder.requests[0].content) == body


def refusal_counts(corpus: list[tuple[str, Any, str]]) -> dict[str, int]:
    """How many bodies of ``corpus`` each layer refused before the network (the figure the report quotes)."""
    counts = {"cases": len(corpus), "generated": 0, "api": 0}
    layers: dict[str, Callable[[Any, Recorder], Outcome]] = {"generated": _through_generated, "api": _through_api}
    for _, body, _ in corpus:
        for name, through in layers.items():
            outcome = through(body, Recorder())
            counts[name] += outcome[0] == "refused" and outcome[3] == 0
    return counts


def test_the_corpus_covers_every_class() -> None:
    ids = [case for case, _, _ in INVALID]
    for prefix in ("spec:", "rule:", "hostile:"):
        assert any(i.startswith(prefix) for i in ids), prefix
    assert refusal_counts(INVALID) == {"cases": len(INVALID), "generated": len(INVALID), "api": len(INVALID)}
