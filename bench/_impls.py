"""The create call of each implementation, over an in-process transport or a loopback base URL.

Every implementation sends the spec's ``text_to_image`` request with a
Bearer key and parses the answer the way its users would get it:

* bare httpx: post JSON, parse JSON (the floor);
* plain openapi-python-client output of the vendor YAML: request model, ``sync``, response model;
* openai-python: ``images.generate`` (its own request building and pydantic parsing);
* ours: ``SeedreamAPI.create_generation`` with every check on (spec constraints, prose rules,
  status mapping, response validation).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx

from ._spec_bodies import create_200_body, create_request

__all__ = ["API_KEY", "Impl", "make_bare", "make_openai", "make_ours", "make_plain", "mock_handler", "openai_http_lib"]

API_KEY = "sk-bench-0123456789"
PATH = "/v1/images/generations"


@dataclass
class Impl:
    name: str
    call: Callable[[], Any]
    close: Callable[[], None]
    note: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def mock_handler(lib: Any = httpx) -> Callable[[Any], Any]:
    """A MockTransport handler answering the spec's 200 body (``lib``: httpx, or httpx2 for openai 3.x)."""
    body = create_200_body()
    headers = {"content-type": "application/json"}

    def handle(request: Any) -> Any:
        if request.method == "POST" and request.url.path == PATH:
            return lib.Response(200, headers=headers, content=body)
        return lib.Response(404, headers=headers, content=b'{"error":{"code":"not_found"}}')

    return handle


def _expect_task(result_id: object) -> None:
    if not (isinstance(result_id, str) and result_id.startswith("task-unified-")):
        raise RuntimeError(f"benchmark sanity check: the create call returned no task id ({result_id!r})")


def make_bare(base_url: str, transport: httpx.BaseTransport | None = None) -> Impl:
    client = httpx.Client(base_url=base_url, transport=transport, headers={"Authorization": f"Bearer {API_KEY}"})
    body = create_request()

    def call() -> Any:
        return client.post(PATH, json=body).json()

    _expect_task(call()["id"])
    return Impl("bare httpx", call, client.close, info={"httpx": httpx.__version__})


def make_plain(package: ModuleType, base_url: str, transport: httpx.BaseTransport | None = None) -> Impl:
    name = package.__name__
    client_mod = importlib.import_module(f"{name}.client")
    create = importlib.import_module(f"{name}.api.image_generation.create_image_generation")
    models = importlib.import_module(f"{name}.models")
    args = {"transport": transport} if transport is not None else {}
    client = client_mod.AuthenticatedClient(base_url=base_url, token=API_KEY, httpx_args=args)
    req = create_request()
    request_cls = models.ImageGenerationRequest
    model_enum, quality_enum = models.ImageGenerationRequestModel, models.ImageGenerationRequestQuality

    def call() -> Any:
        body = request_cls(
            model=model_enum(req["model"]), prompt=req["prompt"], size=req["size"], quality=quality_enum(req["quality"])
        )
        return create.sync(client=client, body=body)

    _expect_task(call().id)

    def close() -> None:
        client.get_httpx_client().close()

    return Impl("plain generated client", call, close)


def openai_http_lib() -> tuple[Any, str]:
    """The HTTP library the installed openai-python builds on: httpx up to 2.x, httpx2 from 3.0."""
    import openai

    base = importlib.import_module("openai._base_client")
    if hasattr(base, "httpx2") or "httpx2" in getattr(base, "__dict__", {}):
        return importlib.import_module("httpx2"), openai.__version__
    return httpx, openai.__version__


def make_openai(base_url: str, handler: Callable[[Any], Any] | None = None) -> Impl:
    """openai-python's ``images.generate``; ``handler``: answer in-process through its library's MockTransport."""
    import openai

    lib, version = openai_http_lib()
    note = "" if lib is httpx else f"openai {version} is built on httpx2: same handler, httpx2.MockTransport"
    transport = lib.MockTransport(handler) if handler is not None else None
    http_client = lib.Client(transport=transport) if transport is not None else lib.Client()
    client = openai.OpenAI(base_url=base_url + "/v1", api_key=API_KEY, http_client=http_client, max_retries=0)
    req = create_request()

    def call() -> Any:
        return client.images.generate(
            model=req["model"], prompt=req["prompt"], size=req["size"], quality=req["quality"]
        )

    result = call()
    _expect_task((result.model_extra or {}).get("id"))

    def close() -> None:
        client.close()

    return Impl("openai-python", call, close, note=note, info={"openai": version})


def make_ours(base_url: str, transport: httpx.BaseTransport | None = None, *, drift_monitor: bool = True) -> Impl:
    """``drift_monitor``: the client's default (every answer judged, seedream._drift), or turned off."""
    from seedream._sync._api import SeedreamAPI  # issue 3

    api = SeedreamAPI(API_KEY, base_url=base_url, transport=transport)
    if not drift_monitor:
        api.drift_monitor = None
    req = create_request()

    def call() -> Any:
        return api.create_generation(req["prompt"], size=req["size"], quality=req["quality"])

    _expect_task(call().id)
    monitor = api.drift_monitor
    if monitor is not None and monitor.records():  # the figure measures the clean answer's path
        raise RuntimeError(f"benchmark sanity check: the 200 body drifts from the spec ({monitor.records()})")
    name = "seedream SeedreamAPI" if drift_monitor else "seedream SeedreamAPI, drift monitor off"
    return Impl(name, call, api.close, note="drift monitor on (the default)" if drift_monitor else "")
