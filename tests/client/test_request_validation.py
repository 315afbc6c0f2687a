"""Nothing invalid leaves the process: every rule at its boundary, one error type naming field, value and rule.

Each accepted case is sent exactly once (and what went on the wire matches
the spec); each rejected case raises RequestValidationError before any HTTP
request (the recording transport saw nothing).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from seedream_client.models import (
    ImageGenerationRequestModelParamsOutputFormat,
    ImageGenerationRequestPromptPriority,
    ImageGenerationRequestQuality,
)

from seedream import RequestValidationError, SeedreamAPI
from seedream._rules import RATIOS
from seedream.testing._spec_cases import constraint_cases, request_problems

from .helpers import SENTINEL_KEY, Recorder

URL = "https://cdn.example.com/ref.png"
HOOK = "https://hooks.example.com/seedream"

# (case id, keyword arguments of create_generation, rule id expected or None when accepted, field)
ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("size 2560x1440 (minimum pixels)", {"size": "2560x1440"}),
    ("size 3072x3072 (maximum pixels)", {"size": "3072x3072"}),
    ("size 768x12288 (aspect exactly 1/16)", {"size": "768x12288"}),
    ("size 12288x768 (aspect exactly 16)", {"size": "12288x768"}),
    *[(f"size {ratio}", {"size": ratio}) for ratio in RATIOS],
    ("n 1", {"n": 1}),
    ("n 15", {"n": 15}),
    ("n 3.0 (integral float)", {"n": 3.0}),
    ("14 image_urls", {"image_urls": [URL] * 14}),
    ("14 image_urls + n 1 = 15", {"image_urls": [URL] * 14, "n": 1}),
    ("5 image_urls + n 10 = 15", {"image_urls": [URL] * 5, "n": 10}),
    ("image_urls as a tuple", {"image_urls": (URL, URL)}),
    ("prompt 2000 characters", {"prompt": "x" * 2000}),
    ("callback https public host", {"callback_url": HOOK}),
    ("callback HTTPS upper-case scheme", {"callback_url": "HTTPS://hooks.example.com/x"}),
    ("callback public IPv4 literal", {"callback_url": "https://8.8.8.8/cb"}),
    ("callback public IPv6 literal", {"callback_url": "https://[2001:4860:4860::8888]/cb"}),
    ("callback NAT64 of a public IPv4", {"callback_url": "https://[64:ff9b::808:808]/cb"}),
    ("callback 6to4 of a public IPv4", {"callback_url": "https://[2002:808:808::1]/cb"}),
    ("callback port 65535", {"callback_url": "https://hooks.example.com:65535/cb"}),
    ("prompt with an astral character", {"prompt": "a lake at dawn 🌅"}),
    ("callback 2048 characters", {"callback_url": "https://hooks.example.com/" + "a" * (2048 - 26)}),
    ("callback name that merely contains an IP", {"callback_url": "https://10.0.0.1.nip.example.com/cb"}),
    ("quality 2K", {"quality": "2K"}),
    ("quality 3K", {"quality": "3K"}),
    ("quality as enum member", {"quality": ImageGenerationRequestQuality.THREE_K}),
    ("output_format png", {"output_format": "png"}),
    ("output_format jpeg member", {"output_format": ImageGenerationRequestModelParamsOutputFormat.JPEG}),
    ("prompt_priority standard", {"prompt_priority": "standard"}),
    ("prompt_priority member", {"prompt_priority": ImageGenerationRequestPromptPriority.STANDARD}),
    ("web_search", {"web_search": True}),
    ("extra_body unknown field", {"extra_body": {"seed": 7}}),
]

REJECTED: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("size 2559x1440 (below minimum pixels)", {"size": "2559x1440"}, "size-pixel-range", "size"),
    ("size 3072x3073 (above maximum pixels)", {"size": "3072x3073"}, "size-pixel-range", "size"),
    ("size 760x12288 (aspect below 1/16)", {"size": "760x12288"}, "size-aspect-range", "size"),
    ("size 12288x760 (aspect above 16)", {"size": "12288x760"}, "size-aspect-range", "size"),
    ("size 16:10 (unlisted ratio)", {"size": "16:10"}, "size-shape", "size"),
    ("size 2048X2048 (upper-case x)", {"size": "2048X2048"}, "size-shape", "size"),
    ("size 02048x2048 (leading zero)", {"size": "02048x2048"}, "size-shape", "size"),
    ("size as a number", {"size": 2048}, None, "size"),
    ("n 0", {"n": 0}, "n-range", "n"),
    ("n 16", {"n": 16}, "n-range", "n"),
    ("n -5", {"n": -5}, "n-range", "n"),
    ("n 100", {"n": 100}, "n-range", "n"),
    ("n True", {"n": True}, None, "n"),
    ("n 2.5", {"n": 2.5}, None, "n"),
    ("n '3'", {"n": "3"}, None, "n"),
    ("15 image_urls", {"image_urls": [URL] * 15}, "image-urls-count", "image_urls"),
    ("14 image_urls + n 2 = 16", {"image_urls": [URL] * 14, "n": 2}, "references-plus-n", "n"),
    ("5 image_urls + n 11 = 16", {"image_urls": [URL] * 5, "n": 11}, "references-plus-n", "n"),
    ("image_urls not URIs", {"image_urls": ["not a uri"]}, None, "image_urls[0]"),
    ("image_urls a single string", {"image_urls": URL}, None, "image_urls"),
    ("image_urls holding a number", {"image_urls": [URL, 5]}, None, "image_urls[1]"),
    ("prompt 2001 characters", {"prompt": "x" * 2001}, "prompt-length", "prompt"),
    ("prompt 5000 characters", {"prompt": "x" * 5000}, "prompt-length", "prompt"),
    ("prompt not a string", {"prompt": 5}, None, "prompt"),
    ("callback http", {"callback_url": "http://hooks.example.com/x"}, "callback-https", "callback_url"),
    ("callback ftp", {"callback_url": "ftp://x"}, "callback-https", "callback_url"),
    ("callback 127.0.0.1", {"callback_url": "https://127.0.0.1/cb"}, "callback-host-not-internal", "callback_url"),
    ("callback 10.x", {"callback_url": "https://10.1.2.3/cb"}, "callback-host-not-internal", "callback_url"),
    ("callback 172.16.x", {"callback_url": "https://172.16.0.1/cb"}, "callback-host-not-internal", "callback_url"),
    ("callback 172.31.x", {"callback_url": "https://172.31.255.254/cb"}, "callback-host-not-internal", "callback_url"),
    ("callback 192.168.x", {"callback_url": "https://192.168.1.20/cb"}, "callback-host-not-internal", "callback_url"),
    (
        "callback 169.254.x",
        {"callback_url": "https://169.254.169.254/latest"},
        "callback-host-not-internal",
        "callback_url",
    ),
    ("callback [::1]", {"callback_url": "https://[::1]:8443/cb"}, "callback-host-not-internal", "callback_url"),
    (
        "callback [::ffff:127.0.0.1]",
        {"callback_url": "https://[::ffff:127.0.0.1]/cb"},
        "callback-host-not-internal",
        "callback_url",
    ),
    ("callback [fe80::1]", {"callback_url": "https://[fe80::1]/cb"}, "callback-host-not-internal", "callback_url"),
    ("callback localhost", {"callback_url": "https://localhost/cb"}, "callback-host-not-internal", "callback_url"),
    ("callback LOCALHOST.", {"callback_url": "https://LOCALHOST./cb"}, "callback-host-not-internal", "callback_url"),
    (
        "callback api.localhost",
        {"callback_url": "https://api.localhost/cb"},
        "callback-host-not-internal",
        "callback_url",
    ),
    ("callback 0.0.0.0", {"callback_url": "https://0.0.0.0/cb"}, "callback-host-not-internal", "callback_url"),
    (
        "callback decimal 2130706433",
        {"callback_url": "https://2130706433/cb"},
        "callback-host-not-internal",
        "callback_url",
    ),
    (
        "callback hex 0x7f000001",
        {"callback_url": "https://0x7f000001/cb"},
        "callback-host-not-internal",
        "callback_url",
    ),
    ("callback short 127.1", {"callback_url": "https://127.1/cb"}, "callback-host-not-internal", "callback_url"),
    (
        "callback user@127.0.0.1",
        {"callback_url": "https://me@127.0.0.1/cb"},
        "callback-host-not-internal",
        "callback_url",
    ),
    (
        "callback 2049 characters",
        {"callback_url": "https://hooks.example.com/" + "a" * (2049 - 26)},
        "callback-length",
        "callback_url",
    ),
    ("callback not a URI", {"callback_url": "https://exa mple.com/x"}, None, "callback_url"),
    ("quality 4K", {"quality": "4K"}, None, "quality"),
    ("quality lower-case 2k", {"quality": "2k"}, None, "quality"),
    ("output_format gif", {"output_format": "gif"}, None, "model_params.output_format"),
    ("prompt_priority fast", {"prompt_priority": "fast"}, None, "prompt_priority"),
    ("web_search 'yes'", {"web_search": "yes"}, None, "web_search"),
    ("extra_body repeats n", {"n": 2, "extra_body": {"n": 3}}, None, "extra_body.n"),
    ("extra_body overrides the model", {"extra_body": {"model": "other"}}, None, "extra_body.model"),
    ("extra_body not JSON", {"extra_body": {"when": object()}}, "json-text", "when"),
    ("extra_body NaN", {"extra_body": {"seed": float("nan")}}, "json-text", "seed"),
    # Patterns and formats match the whole value: Python's "$" alone would accept a final newline.
    ("size 2048x2048 + newline", {"size": "2048x2048\n"}, "size-shape", "size"),
    ("size auto + newline", {"size": "auto\n"}, "size-shape", "size"),
    ("size 100x100 + newline", {"size": "100x100\n"}, "size-shape", "size"),
    ("image_urls URL + newline", {"image_urls": [URL + "\n"]}, None, "image_urls[0]"),
    ("callback URL + newline", {"callback_url": HOOK + "\n"}, None, "callback_url"),
    ("image_urls port 99999", {"image_urls": ["https://example.com:99999/x.png"]}, None, "image_urls[0]"),
    ("callback port 65536", {"callback_url": "https://hooks.example.com:65536/x"}, None, "callback_url"),
    ("prompt lone surrogate", {"prompt": "a lake \ud800"}, "json-text", "prompt"),
    ("image_urls surrogate", {"image_urls": ["https://example.com/\udfff.png"]}, None, "image_urls[0]"),
    *[
        (f"callback [{host}]", {"callback_url": f"https://[{host}]/cb"}, "callback-host-not-internal", "callback_url")
        for host in (
            "::127.0.0.1",  # IPv4-compatible
            "::ffff:0:7f00:1",  # SIIT IPv4-translated
            "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
            "64:ff9b:1::1",  # NAT64 local-use
            "2002:7f00:1::1",  # 6to4 of 127.0.0.1
            "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
            "fec0::1",  # site-local
            "fd12:3456::1",  # unique-local
            "ff02::1",  # multicast
            "::",  # unspecified
            "2001:db8::1",  # documentation
            "3fff::1",  # documentation (RFC 9637)
        )
    ],
]


def _create(api: SeedreamAPI, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    prompt = kwargs.pop("prompt", "a lake at dawn")
    return api.create_generation(prompt, **kwargs)


@pytest.mark.parametrize(("case", "kwargs"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_a_body_just_inside_every_rule_is_sent_exactly_once_as_given(
    api: SeedreamAPI, recorder: Recorder, case: str, kwargs: dict[str, Any]
) -> None:
    created = _create(api, kwargs)
    assert created.id
    assert recorder.count == 1
    request = recorder.requests[0]
    assert request_problems(request, api_key=SENTINEL_KEY) == []
    sent = recorder.sent_body()
    for name in ("size", "quality", "prompt_priority", "callback_url"):
        if name in kwargs:
            assert sent[name] == str(kwargs[name]), name
    if "image_urls" in kwargs:
        assert sent["image_urls"] == list(kwargs["image_urls"])
    if "n" in kwargs:
        assert sent["n"] == kwargs["n"] and type(sent["n"]) is int


@pytest.mark.parametrize(("case", "kwargs", "rule_id", "field"), REJECTED, ids=[c[0] for c in REJECTED])
def test_a_body_just_outside_every_rule_raises_before_any_request(
    api: SeedreamAPI, recorder: Recorder, case: str, kwargs: dict[str, Any], rule_id: str | None, field: str
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        _create(api, kwargs)
    assert recorder.count == 0
    error = caught.value
    assert error.field == field
    assert error.rule_id == rule_id
    assert error.rule and error.rule in str(error) and field in str(error)


def test_build_body_gives_the_wire_body_and_the_same_rules(api: SeedreamAPI, recorder: Recorder) -> None:
    body = api.build_body(
        "a fox", n=2, size="16:9", quality="2K", output_format="png", web_search=True, callback_url=HOOK
    )
    assert body == {
        "model": "doubao-seedream-5.0-lite",
        "prompt": "a fox",
        "n": 2,
        "size": "16:9",
        "quality": "2K",
        "model_params": {"output_format": "png", "tools": [{"type": "web_search"}]},
        "callback_url": HOOK,
    }
    assert all(type(v) is str for k, v in body.items() if k in ("size", "quality"))
    with pytest.raises(RequestValidationError, match="n"):
        api.build_body("a fox", n=16)
    assert recorder.count == 0


def test_a_long_value_is_truncated_in_the_message_but_kept_whole_on_the_error(api: SeedreamAPI) -> None:
    prompt = "p" * 5000
    with pytest.raises(RequestValidationError) as caught:
        api.create_generation(prompt)
    assert caught.value.value == prompt
    assert len(str(caught.value)) < 200
    assert "..." in str(caught.value)


def test_the_error_is_part_of_the_one_tree_and_a_value_error() -> None:
    from seedream import SeedreamError

    assert issubclass(RequestValidationError, SeedreamError)
    assert issubclass(RequestValidationError, ValueError)


# -- bodies given whole -----------------------------------------------------------------------------

CASES = constraint_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_spec_constraint_holds_on_both_sides_for_a_body_given_whole(
    api: SeedreamAPI, recorder: Recorder, case: Any
) -> None:
    if case.inside is not None:
        api.create_generation_from_body(case.inside)
        assert recorder.count == 1
        assert json.loads(recorder.requests[0].content) == case.inside
    before = recorder.count
    with pytest.raises(RequestValidationError) as caught:
        api.create_generation_from_body(case.outside)
    assert recorder.count == before
    assert caught.value.field.split("[")[0].split(".")[0] == case.field.split("[")[0].split(".")[0]


@pytest.mark.parametrize("body", [b'{"prompt": "x"}', "prompt", ["prompt"], None, 5])
def test_a_body_that_is_not_an_object_is_refused_before_sending(
    api: SeedreamAPI, recorder: Recorder, body: Any
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        api.create_generation_from_body(body)
    assert caught.value.field == "(body)"
    assert recorder.count == 0


def test_a_body_given_whole_is_checked_against_the_prose_rules_too(api: SeedreamAPI, recorder: Recorder) -> None:
    body = {"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "2559x1440"}
    with pytest.raises(RequestValidationError) as caught:
        api.create_generation_from_body(body)
    assert caught.value.rule_id == "size-pixel-range"
    assert recorder.count == 0


def test_internal_callbacks_are_allowed_only_when_asked_for_a_local_simulator(recorder: Recorder) -> None:
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport, allow_internal_callbacks=True) as api:
        api.create_generation("x", callback_url="https://127.0.0.1:8443/cb")
    assert recorder.count == 1
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as api, pytest.raises(RequestValidationError):
        api.create_generation("x", callback_url="https://127.0.0.1:8443/cb")
    assert recorder.count == 1


@pytest.mark.parametrize("task_id", ["", "   ", None, 5])
def test_a_task_id_that_is_not_a_non_empty_string_is_refused_before_sending(
    api: SeedreamAPI, recorder: Recorder, task_id: Any
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        api.get_task(task_id)
    assert caught.value.field == "task_id"
    assert recorder.count == 0


# -- the generated request model underneath -----------------------------------------------------------


def test_the_generated_request_model_takes_plain_strings_and_enforces_the_spec_in_to_dict() -> None:
    from seedream_client.errors import ConstraintViolation
    from seedream_client.models import ImageGenerationRequest

    body = ImageGenerationRequest(prompt="a lake", quality="2K", size="16:9").to_dict()  # type: ignore[arg-type]
    assert body["quality"] == "2K" and body["size"] == "16:9"
    bads: list[dict[str, Any]] = [
        {"n": 100},
        {"n": -5},
        {"prompt": "x" * 5000},
        {"callback_url": "ftp://x"},
        {"quality": "4K"},
    ]
    for bad in bads:
        with pytest.raises(ConstraintViolation):
            ImageGenerationRequest(**{"prompt": "a lake", **bad}).to_dict()
    with pytest.raises(ConstraintViolation):
        ImageGenerationRequest(prompt="a lake", image_urls=["not a uri"] * 20).to_dict()


def test_a_long_path_in_a_refusal_keeps_its_end_so_the_file_is_named() -> None:
    from seedream import RequestValidationError

    path = "/tmp/" + "deep/" * 30 + "prompts.jsonl"
    message = str(RequestValidationError("FILE", path, "holds no lines"))
    assert message.startswith("FILE: holds no lines (got '...") and "prompts.jsonl" in message
    assert len(message) < 120
