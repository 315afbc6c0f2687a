"""The simulator's state: tasks, result files, credits, keys, counters, and their locks.

Independent of HTTP: the Starlette layer (``_app``) turns requests into calls
here. Every random draw comes from an RNG derived from (seed, kind, index),
so a seeded simulator answers the same request sequence the same way.
"""

from __future__ import annotations

import heapq
import hmac
import random
import secrets
import threading
from typing import Any, Literal
from urllib.parse import urlsplit

from ._callbacks import CallbackAttempt, CallbackDispatcher
from ._clock import Clock
from ._config import SimulatorConfig
from ._counters import Counters
from ._faults import RateLimiter
from ._idempotency import IdempotencyStore
from ._images import render_image
from ._references import FetchError
from ._state import FileEntry, Task, list_item, plan_task, task_body
from ._validation import Generation

__all__ = ["FILES_PATH", "UNLIMITED_REPORTED", "FileState", "Simulator"]

FILES_PATH = "/__simulator__/files/"
# GET /v1/credits must show a number: an unlimited simulator (credits=None) reports this balance.
UNLIMITED_REPORTED = 1_000_000_000.0
FileState = Literal["ok", "expired", "not_ready", "unknown"]


class Simulator:
    def __init__(self, config: SimulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.seed = config.seed if config.seed is not None else secrets.randbits(63)
        self.counters = Counters()
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._files: dict[str, FileEntry] = {}
        self._task_count = 0
        self._request_count = 0
        self._balance = config.credits
        self._costs: dict[str, float] = {}  # task id -> credits charged for it (0 once refunded)
        self._refunds: list[tuple[float, str]] = []  # (ends_at, task id) of tasks that will fail: a heap
        self._used: dict[str, float] = {}  # API key -> credits it has used
        self.idempotency = IdempotencyStore(config.real_seconds(config.idempotency_key_lifetime))
        self._limiter = (
            RateLimiter(config.rate_limit, config.real_seconds(config.rate_limit_window)) if config.rate_limit else None
        )
        self.callbacks = CallbackDispatcher(
            config=config, clock=clock, counters=self.counters, body_for=self._final_body
        )

    # -- randomness ---------------------------------------------------------

    def _rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{index}")

    def request_rng(self) -> random.Random:
        with self._lock:
            self._request_count += 1
            index = self._request_count
        return self._rng("request", index)

    # -- keys, limits, money ---------------------------------------------------

    def authenticate(self, authorization: str | None) -> str | None:
        """The bearer token if it is accepted, else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            return None
        if not self.config.api_keys:
            return token
        matched = False
        for key in self.config.api_keys:  # compare with every key: no early exit to time
            matched |= hmac.compare_digest(key.encode(), token.encode())
        return token if matched else None

    def has_model_access(self, key: str) -> bool:
        return not any(hmac.compare_digest(k.encode(), key.encode()) for k in self.config.no_access_keys)

    def admit(self, key: str) -> float | None:
        """None if the key is within its rate limit, else real seconds until it may try again."""
        if self._limiter is None:
            return None
        return self._limiter.admit(key, self.clock.monotonic())

    def charge(self, credits: float, key: str = "") -> bool:
        """Pre-charge ``credits`` to the account (and ``key``'s usage); False (nothing charged) when short."""
        with self._lock:
            self._settle_refunds(self.clock.monotonic())
            if self._balance is not None:
                if self._balance + 1e-9 < credits:
                    return False
                self._balance -= credits
            self._used[key] = self._used.get(key, 0.0) + credits
        self.counters.charge(credits)
        return True

    def refund(self, credits: float, key: str = "") -> None:
        """Undo :meth:`charge` for a request that created nothing."""
        with self._lock:
            if self._balance is not None:
                self._balance += credits
            self._used[key] = self._used.get(key, 0.0) - credits
        self.counters.charge(-credits)

    def _settle_refunds(self, now: float) -> None:
        """Give back the charge of every task that has failed by ``now`` ("Failed tasks are refunded")."""
        while self._refunds and self._refunds[0][0] <= now:
            _, task_id = heapq.heappop(self._refunds)
            task = self._tasks[task_id]
            cost = self._costs.get(task_id, 0.0)
            self._costs[task_id] = 0.0
            if self._balance is not None:
                self._balance += cost
            self._used[task.key] = self._used.get(task.key, 0.0) - cost
            self.counters.add_refund(cost)

    @property
    def credits_remaining(self) -> float | None:
        with self._lock:
            self._settle_refunds(self.clock.monotonic())
            return self._balance

    def credits_body(self, key: str) -> dict[str, Any]:
        """``GET /v1/credits``: the account (``user``) and this key (``token``, which has no limit of its own)."""
        with self._lock:
            self._settle_refunds(self.clock.monotonic())
            balance = UNLIMITED_REPORTED if self._balance is None else self._balance
            account_used = sum(self._used.values())
            key_used = self._used.get(key, 0.0)
        return {
            "success": True,
            "message": "",
            "data": {
                "user": {"remaining_credits": round(balance, 6), "used_credits": round(account_used, 6)},
                "token": {"remaining_credits": 0, "used_credits": round(key_used, 6), "unlimited_credits": True},
            },
        }

    # -- tasks -------------------------------------------------------------------

    def create_task(
        self,
        request: Generation,
        *,
        base_url: str,
        reference_failure: tuple[str, str] | None,
        cost: float = 0.0,
        key: str = "",
    ) -> Task:
        with self._lock:
            self._task_count += 1
            rng = self._rng("task", self._task_count)
            task = plan_task(
                request,
                rng=rng,
                config=self.config,
                created_at=self.clock.monotonic(),
                wall=self.clock.time(),
                base_url=base_url,
                reference_failure=reference_failure,
                taken=self._tasks,
                image_seed=self.seed,
                key=key,
            )
            self._tasks[task.id] = task
            self._costs[task.id] = cost
            if task.failure is not None and cost:
                heapq.heappush(self._refunds, (task.ends_at, task.id))
            for entry in task.files:
                self._files[entry.name] = entry
        self.counters.add("tasks_created")
        if task.callback_url is not None:
            self.callbacks.schedule(task)
        return task

    def get_task(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def find_tasks(self, task_ids: list[str]) -> list[Task]:
        """The known tasks among ``task_ids``, in request order, each once (unknown ids are left out)."""
        with self._lock:
            found = {i: self._tasks[i] for i in task_ids if i in self._tasks}
        return list(found.values())

    def list_tasks(
        self, *, page: int, page_size: int, status: str | None, type_: str | None, model: str | None
    ) -> dict[str, Any]:
        """``GET /v1/tasks``: one page of summaries, newest first, after the filters."""
        now = self.clock.monotonic()
        with self._lock:
            self._settle_refunds(now)
            tasks = list(self._tasks.values())  # creation order
            costs = dict(self._costs)
        matching = [
            t
            for t in reversed(tasks)
            if (status is None or t.status_at(now) == status)
            and (type_ is None or type_ == "image")
            and (model is None or t.model == model)
        ]
        start = (page - 1) * page_size
        items = [list_item(t, now, credits_used=costs.get(t.id, 0.0)) for t in matching[start : start + page_size]]
        return {"data": items, "total": len(matching), "page": page, "page_size": page_size}

    def task_body(self, task: Task, *, base_url: str) -> dict[str, Any]:
        return task_body(task, self.clock.monotonic(), base_url=self._links_base(base_url), config=self.config)

    def _final_body(self, task: Task) -> dict[str, Any]:
        return task_body(task, task.ends_at, base_url=self._links_base(task.base_url), config=self.config)

    def _links_base(self, request_base: str) -> str:
        return self.config.public_base_url or request_base

    # -- files ---------------------------------------------------------------------

    def file(self, name: str) -> tuple[FileEntry | None, FileState]:
        with self._lock:
            entry = self._files.get(name)
            task = self._tasks.get(entry.task_id) if entry else None
        if entry is None or task is None:
            return None, "unknown"
        now = self.clock.monotonic()
        if now < task.ends_at:
            return entry, "not_ready"
        if now >= task.links_expire_at(self.config):
            return entry, "expired"
        return entry, "ok"

    def file_bytes(self, entry: FileEntry) -> bytes:
        return render_image(entry.width, entry.height, entry.fmt, entry.variant, entry.label)

    def own_file_reader(self, request_host: str) -> Any:
        """A reader for reference URLs that are this simulator's own links (as reached at ``request_host``)."""
        own_bases = {request_host.lower()}
        if self.config.public_base_url:
            own_bases.add(urlsplit(self.config.public_base_url).netloc.lower())

        def read(url: str) -> bytes | None:
            try:
                parts = urlsplit(url)
            except ValueError:
                return None
            if parts.netloc.lower() not in own_bases or not parts.path.startswith(FILES_PATH):
                return None
            entry, state = self.file(parts.path[len(FILES_PATH) :])
            if entry is None or state != "ok":
                raise FetchError(f"HTTP {403 if state == 'expired' else 404}")
            return self.file_bytes(entry)

        return read

    # -- reports ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        data = self.counters.snapshot(credits_remaining=self.credits_remaining)
        data["callbacks"]["pending"] = self.callbacks.pending
        return data

    def callback_attempts(self) -> list[CallbackAttempt]:
        return self.callbacks.attempts()

    def close(self) -> None:
        self.callbacks.close()
