"""Generation request bodies from a seeded RNG: valid ones, and valid ones broken one field at a time.

The generator only *aims*: whether a body is valid is decided by the oracle
(:func:`oracle_valid`), built from the bundled spec with ``jsonschema``
(formats checked) plus the rule module's ``check_request``, never by the
client under test. Each mutation names the top-level fields an error may
blame, so a refusal can be checked to point at the right field.
"""

from __future__ import annotations

import json
import math
import random
import string
from collections.abc import Callable
from typing import Any

from seedream._rules import MAX_PIXELS, MAX_TOTAL_IMAGES, MIN_PIXELS, RATIOS, check_request
from seedream._spec import request_body_validator

MODEL = "doubao-seedream-5.0-lite"
VALIDATOR = request_body_validator()
_STRICT = json.JSONEncoder(allow_nan=False)

# Hosts the callback rule must accept (public) and refuse (internal); names are never resolved.
PUBLIC_HOSTS = (
    "cdn.example.com",
    "images.example.org:8443",
    "8.8.8.8",
    "[2001:4860:4860::8888]",
    "xn--bcher-kva.example",
    "a-b.c-d.example.net",
    "1.1.1.1:443",
)
INTERNAL_HOSTS = (
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "localhost",
    "hooks.localhost",
    "LOCALHOST.",
    "10.0.0.7",
    "172.16.4.4",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[fe80::1]",
    "[fd00::1]",
    "0.0.0.0",
    "%31%32%37.0.0.1",
    "[::127.0.0.1]",
    "[::ffff:0:7f00:1]",
    "[64:ff9b::a00:1]",
    "[2002:c0a8:101::1]",
    "[fec0::1]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
)
_TEXT = string.ascii_letters + string.digits + " .,;:!?-_'\"()[]{}<>/\\@#$%^&*+=~`|"
_UNICODE = "éßøñ中文字🌅🏔️\u200b\u202e\ufeff\u0000\t\n"


def prompt(rng: random.Random, length: int | None = None) -> str:
    if length is None:
        length = rng.choice([0, 1, rng.randint(2, 60), rng.randint(60, 400), rng.randint(1990, 2000)])
    alphabet = _TEXT + _UNICODE if rng.random() < 0.3 else _TEXT
    return "".join(rng.choices(alphabet, k=length))


def _surrogate_prompt(rng: random.Random) -> str:
    text = prompt(rng, rng.randint(1, 200))
    at = rng.randint(0, len(text))
    return text[:at] + rng.choice(["\ud800", "\udfff", "\udc00\ud83c"]) + text[at:]  # no UTF-8 text holds these


def url(rng: random.Random, scheme: str = "https", host: str | None = None) -> str:
    host = host or rng.choice(PUBLIC_HOSTS)
    path = "/".join("".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(1, 8))) for _ in "ab")
    query = rng.choice(["", "", "?sig=abc&exp=1", "?x=%20y"])
    return f"{scheme}://{host}/{path}.png{query}"


def wxh_size(rng: random.Random) -> str:
    """A WIDTHxHEIGHT inside the pixel range and the aspect range (edges included now and then)."""
    while True:
        width = rng.choice([rng.randint(480, 12288), 2560, 1440, 3072, 768, 12288, 1920])
        low = max(-(-MIN_PIXELS // width), -(-width // 16), 1)
        high = min(MAX_PIXELS // width, width * 16, 999_999)
        if low <= high:
            height = rng.choice([low, high, rng.randint(low, high)])
            return f"{width}x{height}"


def valid_body(rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "prompt": prompt(rng)}
    references = 0
    if rng.random() < 0.35:
        references = rng.choice([0, 1, 2, rng.randint(0, 14), 14])
        body["image_urls"] = [url(rng) for _ in range(references)]
    if rng.random() < 0.6:
        body["n"] = rng.randint(1, MAX_TOTAL_IMAGES - references)
        if rng.random() < 0.05:
            body["n"] = float(body["n"])  # 3.0 is an integer to JSON Schema
    if rng.random() < 0.6:
        body["size"] = rng.choice(RATIOS) if rng.random() < 0.5 else wxh_size(rng)
    if rng.random() < 0.5:
        body["quality"] = rng.choice(["2K", "3K"])
    if rng.random() < 0.2:
        body["prompt_priority"] = "standard"
    if rng.random() < 0.35:
        params: dict[str, Any] = {}
        if rng.random() < 0.7:
            params["output_format"] = rng.choice(["png", "jpeg"])
        if rng.random() < 0.5:
            params["tools"] = rng.choice([[{"type": "web_search"}], [], [{"type": "web_search", "x": 1}]])
        body["model_params"] = params
    if rng.random() < 0.3:
        body["callback_url"] = url(rng, scheme=rng.choice(["https", "HTTPS", "Https"]))
    if rng.random() < 0.1:
        body[rng.choice(["user", "metadata", "x_trace", "seed"])] = rng.choice([1, "x", None, [1, 2], {"a": {}}])
    return body


# -- mutations: (name, fields an error may blame, function) ---------------------------------------------------------

Mutation = Callable[[dict[str, Any], random.Random], Any]


def _set(field: str, *values: Any) -> Mutation:
    def mutate(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        value = rng.choice(values)
        body[field] = value(rng) if callable(value) else value
        return body

    return mutate


def _drop(field: str) -> Mutation:
    def mutate(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        body.pop(field, None)
        return body

    return mutate


def _long_prompt(rng: random.Random) -> str:
    return prompt(rng, rng.choice([2001, 2002, rng.randint(2001, 20000)]))


def _bad_pattern_size(rng: random.Random) -> str:
    return rng.choice(
        ["16:10", "1:2", "2048X2048", "2048*2048", "0x100", "100x0", " 1:1", "1:1 ", "AUTO", "", "1234567x1",
         "2048x2048x1", "-2048x2048", "2048.0x2048", "２０４８x2048", "01x2048", "2048x", "x2048", "1:1\n",
         "2048x2048\n", "auto\n", "100x100\n", "16:9\r\n", "auto\x00", "\n2048x2048"]
    )  # fmt: skip


def _out_of_range_size(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:  # too few pixels (aspect fine)
        width = rng.randint(100, 2559)
        return f"{width}x{rng.randint(max(1, -(-width // 16)), max(1, (MIN_PIXELS - 1) // width))}"
    if kind < 0.7:  # too many pixels
        width = rng.randint(3073, 12000)
        return f"{width}x{rng.randint(MAX_PIXELS // width + 1, width * 2)}"
    # pixels in range, aspect beyond 16 (or 1/16)
    height = rng.randint(120, 470)
    width = max(height * 16 + 1, -(-MIN_PIXELS // height))
    if width * height > MAX_PIXELS:
        width = height * 16 + 1
    return f"{width}x{height}" if rng.random() < 0.5 else f"{height}x{width}"


def _too_many_references(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    body["image_urls"] = [url(rng) for _ in range(rng.randint(15, 30))]
    body.pop("n", None)
    return body


def _references_plus_n(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    references = rng.randint(1, 14)
    body["image_urls"] = [url(rng) for _ in range(references)]
    body["n"] = rng.randint(MAX_TOTAL_IMAGES - references + 1, 15)
    return body


def _bad_reference(rng: random.Random) -> list[Any]:
    good = [url(rng) for _ in range(rng.randint(0, 3))]
    bad = rng.choice(["not a uri", "", "cdn.example.com/a.png", "http://exa mple.com/a.png", "https://[::1/x",
                      "https://cdn.example.com/a.png\n", "https://example.com:99999/x.png", "https://x.example/\ud800",
                      1, None, {"url": "https://x.example/a.png"}, ["https://x.example/a.png"], True])  # fmt: skip
    good.insert(rng.randint(0, len(good)), bad)
    return good


def _internal_callback(rng: random.Random) -> str:
    return url(rng, scheme=rng.choice(["https", "HTTPS"]), host=rng.choice(INTERNAL_HOSTS))


def _non_https_callback(rng: random.Random) -> str:
    return url(rng, scheme=rng.choice(["http", "ftp", "ws", "file", "javascript", "httpss"]))


def _long_callback(rng: random.Random) -> str:
    base = url(rng)
    return base + "&pad=" + "a" * (2049 - len(base) - 5 + rng.randint(0, 3000))


def _bad_model_params(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    body["model_params"] = rng.choice(
        [
            "png",
            ["png"],
            1,
            None,
            {"output_format": rng.choice(["gif", "PNG", "jpg", "webp", "", 1, None])},
            {"tools": rng.choice([{"type": "web_search"}, "web_search", [{"type": "code_interpreter"}], [{}],
                                  [{"kind": "web_search"}], ["web_search"], [None], [{"type": None}], None])},
        ]
    )  # fmt: skip
    return body


def _not_json(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    body[rng.choice(["extra", "n", "prompt", "size"])] = rng.choice(
        [math.nan, math.inf, -math.inf, {1, 2}, b"bytes", object(), complex(1, 2)]
    )
    return body


def _not_an_object(body: dict[str, Any], rng: random.Random) -> Any:
    return rng.choice([[body], json.dumps(body), None, 1, 1.5, True, "", [], ()])


def _wrong_type(field: str) -> Mutation:
    return _set(field, 1, 1.5, True, None, [], {}, "1", ["a"], {"value": "x"})


MUTATIONS: tuple[tuple[str, frozenset[str], Mutation], ...] = (
    ("model:missing", frozenset({"model"}), _drop("model")),
    ("model:other", frozenset({"model"}), _set("model", "doubao-seedream-4.0", "", "DOUBAO-SEEDREAM-5.0-LITE", "gpt")),
    ("model:type", frozenset({"model"}), _wrong_type("model")),
    ("prompt:missing", frozenset({"prompt"}), _drop("prompt")),
    ("prompt:too-long", frozenset({"prompt"}), _set("prompt", _long_prompt)),
    ("prompt:surrogate", frozenset({"prompt"}), _set("prompt", _surrogate_prompt)),
    ("prompt:type", frozenset({"prompt"}), _set("prompt", 1, None, ["a lake"], {"text": "a lake"}, True, 1.5)),
    ("n:range", frozenset({"n"}), _set("n", 0, -1, 16, 100, 10**30, -(10**30), 15.5 + 1)),
    ("n:type", frozenset({"n"}), _set("n", 1.5, "2", True, False, None, [1], {"n": 1}, math.nan, math.inf)),
    ("size:pattern", frozenset({"size"}), _set("size", _bad_pattern_size)),
    ("size:range", frozenset({"size"}), _set("size", _out_of_range_size)),
    ("size:type", frozenset({"size"}), _wrong_type("size")),
    ("quality:enum", frozenset({"quality"}), _set("quality", "4K", "2k", "1K", "", "2K ", "HD")),
    ("quality:type", frozenset({"quality"}), _wrong_type("quality")),
    ("prompt_priority:enum", frozenset({"prompt_priority"}), _set("prompt_priority", "fast", "Standard", "")),
    ("prompt_priority:type", frozenset({"prompt_priority"}), _wrong_type("prompt_priority")),
    ("image_urls:type", frozenset({"image_urls"}), _set("image_urls", "https://cdn.example.com/a.png", 1, None, {})),
    ("image_urls:count", frozenset({"image_urls"}), _too_many_references),
    ("image_urls:item", frozenset({"image_urls"}), _set("image_urls", _bad_reference)),
    ("references+n", frozenset({"n", "image_urls"}), _references_plus_n),
    ("model_params", frozenset({"model_params"}), _bad_model_params),
    ("callback_url:internal", frozenset({"callback_url"}), _set("callback_url", _internal_callback)),
    ("callback_url:scheme", frozenset({"callback_url"}), _set("callback_url", _non_https_callback)),
    ("callback_url:length", frozenset({"callback_url"}), _set("callback_url", _long_callback)),
    (
        "callback_url:format",
        frozenset({"callback_url"}),
        _set(
            "callback_url",
            "https://",
            "https:// x",
            "https://a b",
            "https://hooks.example.com/x\n",
            "https://hooks.example.com:65536/x",
        ),
    ),
    ("callback_url:type", frozenset({"callback_url"}), _wrong_type("callback_url")),
    ("not-json", frozenset({"extra", "n", "prompt", "size", "(body)"}), _not_json),
    ("not-an-object", frozenset({"(body)"}), _not_an_object),
)


def mutated_body(rng: random.Random) -> tuple[str, frozenset[str], Any]:
    """A valid body with one field broken: (mutation name, fields an error may blame, body)."""
    name, fields, mutate = rng.choice(MUTATIONS)
    return name, fields, mutate(valid_body(rng), rng)


# -- the oracle -------------------------------------------------------------------------------------------------------


def strict_json(body: Any) -> bool:
    try:
        _STRICT.encode(body)
    except (TypeError, ValueError):
        return False
    return True


def oracle_valid(body: Any) -> bool:
    """Valid iff a JSON object the bundled spec accepts (jsonschema, formats checked) and no prose rule refuses."""
    return isinstance(body, dict) and strict_json(body) and VALIDATOR.is_valid(body) and not check_request(body)
