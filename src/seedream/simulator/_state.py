"""Tasks and result files: planned whole at creation, then read off the clock.

A task's whole life (durations, outcome, image tokens) is drawn from its own
seeded RNG when it is created, so nothing needs a background job: the status
at any moment is a pure function of the clock. Times here are *real* clock
seconds (``clock.monotonic()``); simulated durations are scaled on the way in.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import _rules
from ._config import SimulatorConfig
from ._images import image_label
from ._markers import parse_markers
from ._validation import Generation

__all__ = ["FAILURE_MESSAGES", "FileEntry", "Task", "list_item", "plan_task", "task_body"]

MODEL = "doubao-seedream-5.0-lite"
TASK_PREFIX = "task-unified-"

FAILURE_MESSAGES: Mapping[str, str] = {
    "content_policy_violation": "The prompt or an input image was rejected by the content policy",
    "invalid_parameters": "Invalid parameters for this model",
    "image_processing_error": "An input image could not be downloaded or processed",
    "image_dimension_mismatch": "An input image's dimensions are outside the supported range",
    "request_cancelled": "The request was cancelled",
    "generation_failed_no_content": "The model produced no content; try another prompt",
    "service_error": "Internal service error; please retry later",
    "generation_timeout": "Generation timed out; please retry later",
    "resource_exhausted": "Resources are exhausted; please retry later",
    "quota_exceeded": "Upstream quota exceeded; please retry later",
    "service_unavailable": "The service is temporarily unavailable; please retry later",
    "resource_not_found": "Task not found or expired",
    "unknown_error": "Unknown error; please retry later",
}
# Server-side codes a healthy request can still meet (task_failure_rate); resource_not_found is for ids.
RANDOM_FAILURE_CODES = tuple(
    code for code, retryable in _rules.TASK_FAILURE_CODES.items() if retryable and code != "resource_not_found"
)
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class FileEntry:
    token: str
    task_id: str
    index: int
    width: int
    height: int
    fmt: str  # png | jpeg
    variant: int  # picks colours and pattern: from the simulator's seed, the prompt and the index
    label: str = ""  # the prompt's first words, drawn into the image

    @property
    def name(self) -> str:
        return f"{self.token}.{self.fmt}"


@dataclass(frozen=True)
class Task:
    id: str
    created: int  # unix seconds
    created_at: float  # clock.monotonic() at creation
    model: str
    estimated_time: int  # simulated seconds, as drawn
    pending_until: float  # real clock seconds
    finish_at: float  # when the work would be done (progress runs 1..99 towards it)
    ends_at: float  # when the task ends: finish_at, or earlier for a failure part-way
    failure: tuple[str, str] | None  # (code, message)
    files: tuple[FileEntry, ...]
    callback_url: str | None
    base_url: str  # where the creating request reached us (links in the callback body)
    key: str = field(default="", repr=False)  # the API key that created it (its usage in GET /v1/credits)

    def status_at(self, now: float) -> str:
        if now < self.pending_until:
            return "pending"
        if now < self.ends_at:
            return "processing"
        return "failed" if self.failure else "completed"

    def progress_at(self, now: float) -> int:
        """0 while pending, rising 1..99 while processing, 100 when completed; a failed task keeps its last value."""
        if now < self.pending_until:
            return 0
        if now >= self.ends_at and self.failure is None:
            return 100
        span = self.finish_at - self.pending_until
        done = 1.0 if span <= 0 else (min(now, self.ends_at) - self.pending_until) / span
        return max(1, min(99, 1 + int(98 * done)))

    def links_expire_at(self, config: SimulatorConfig) -> float:
        return self.ends_at + config.real_seconds(config.link_lifetime)


def plan_task(
    request: Generation,
    *,
    rng: random.Random,
    config: SimulatorConfig,
    created_at: float,
    wall: float,
    base_url: str,
    reference_failure: tuple[str, str] | None,
    taken: set[str] | dict[str, Any],
    image_seed: int = 0,
    key: str = "",
) -> Task:
    """Draw a task's whole life from ``rng`` (same seed and request, same task)."""
    created = int(wall)
    task_id = ""
    while not task_id or task_id in taken:
        task_id = f"{TASK_PREFIX}{created}-{''.join(rng.choices(_ID_ALPHABET, k=8))}"
    markers = parse_markers(request.prompt)
    count = _rules.generated_image_count(request.n, len(request.image_urls))
    if markers.images is not None:
        count = min(count, markers.images)
    width, height = request.width, request.height
    fmt = request.output_format or config.default_output_format
    web_search = request.web_search

    # Estimated seconds: a fixed start-up plus work proportional to pixels generated.
    estimate = 8.0 + 6.0 * count * (width * height) / (2048 * 2048) + (5.0 if web_search else 0.0)
    total = markers.duration if markers.duration is not None else estimate * rng.uniform(0.75, 1.25)
    pending = min(rng.uniform(0.5, 2.0), total / 4)

    failure: tuple[str, str] | None = None
    roll = rng.random()
    if markers.fail is not None:
        failure = (markers.fail, FAILURE_MESSAGES.get(markers.fail, f"Simulated failure: {markers.fail}"))
    elif reference_failure is not None:
        failure = reference_failure
    elif roll < config.task_failure_rate:
        code = rng.choice(RANDOM_FAILURE_CODES)
        failure = (code, FAILURE_MESSAGES[code])
    ends = total
    if failure is not None and markers.duration is None:
        ends = pending + (total - pending) * rng.uniform(0.2, 0.9)  # failures come part-way

    prompt = request.prompt
    label = image_label(prompt)
    files = tuple(
        FileEntry(f"{rng.getrandbits(64):016x}", task_id, i, width, height, fmt, _variant(image_seed, prompt, i), label)
        for i in range(count)
    )
    scale = config.time_scale
    return Task(
        id=task_id,
        created=created,
        created_at=created_at,
        model=request.model,
        estimated_time=max(1, round(estimate)),
        pending_until=created_at + pending * scale,
        finish_at=created_at + total * scale,
        ends_at=created_at + ends * scale,
        failure=failure,
        files=files if failure is None else (),
        callback_url=request.callback_url,
        base_url=base_url,
        key=key,
    )


def _variant(seed: int, prompt: str, index: int) -> int:
    """The same (seed, prompt, index), the same picture; another prompt, another picture."""
    digest = hashlib.sha256(f"{seed}\n{index}\n{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def task_body(task: Task, now: float, *, base_url: str, config: SimulatorConfig) -> dict[str, Any]:
    """The task as ``GET /v1/tasks/{id}`` (and a callback) shows it at ``now``."""
    status = task.status_at(now)
    body: dict[str, Any] = {
        "created": task.created,
        "id": task.id,
        "model": task.model,
        "object": "image.generation.task",
        "progress": task.progress_at(now),
        "status": status,
        "task_info": {"can_cancel": status == "pending", "estimated_time": reported_seconds(task, config)},
        "type": "image",
    }
    if status == "completed":
        body["results"] = [f"{base_url}/__simulator__/files/{entry.name}" for entry in task.files]
    elif status == "failed" and task.failure is not None:
        code = task.failure[0]
        # A code of digits only is sent as a JSON integer (`[sim:fail=400]`): error codes are not always strings
        # (spec-facts "Balance": the vendor's page shows `code: 400`), and clients must keep them as sent.
        body["error"] = {"code": int(code) if code.isdigit() else code, "message": task.failure[1]}
    return body


def list_item(task: Task, now: float, *, credits_used: float) -> dict[str, Any]:
    """The task as one ``GET /v1/tasks`` item shows it: a summary without result links."""
    status = task.status_at(now)
    return {
        "id": task.id,
        "model": task.model,
        "status": status,
        "type": "image",
        "created_at": task.created,
        "credits_used": round(credits_used, 6),
        "has_results": status == "completed" and bool(task.files),
        "has_error": status == "failed",
    }


def reported_seconds(task: Task, config: SimulatorConfig) -> int:
    """``estimated_time`` in the client's (real) seconds, so a client pacing itself on it keeps up."""
    return max(0, round(task.estimated_time * config.time_scale))
