"""The guarded, single-attempt client (see ``seedream._client``): everything but the I/O is in ``_Base``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx
from seedream_client.models import CreditsResponse, ImageGenerationResponse, TaskDetailResponse, TaskListResponse

from .._answers import MAX_ANSWER_BYTES, TaskBatch
from .._client import USER_AGENT, CreateAnswer, TimeoutLike, _Base, _batch_ids, _encode
from .._deadline import Deadline, bound_sockets
from .._errors import ConfigurationError
from ._answers import read_answer

__all__ = ["AsyncSeedreamAPI"]


class AsyncSeedreamAPI(_Base):
    """Guarded single-attempt client. No retries here: see the high-level ``AsyncSeedream`` client.

    ``api_key`` falls back to ``EVOLINK_API_KEY``; ``base_url`` to
    ``SEEDREAM_BASE_URL``, then ``https://api.evolink.ai``. ``timeout`` (seconds
    or ``httpx.Timeout``) applies to every request, whichever httpx client
    sends it; each call can override it. Pass ``http_client`` to use your own
    ``httpx.AsyncClient`` (it is not closed by :meth:`close`; the key is added per
    request, never stored in its headers, and the client's own ``auth`` is not
    applied to our requests) or ``transport`` for ours.
    ``allow_internal_callbacks`` is for tests against a local simulator only.
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutLike | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_internal_callbacks: bool = False,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        super().__init__(api_key, base_url, timeout, allow_internal_callbacks, max_answer_bytes)
        if http_client is not None:
            if transport is not None:
                raise ConfigurationError("pass http_client or transport, not both")
            if not isinstance(http_client, httpx.AsyncClient):
                raise ConfigurationError(f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__}")
            self._http = http_client
        else:
            self._http = httpx.AsyncClient(
                transport=transport, timeout=self.timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False
            )
            bound_sockets(self._http)
        self._adopt(own=http_client is None)

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The httpx client in use (its headers never hold the key, so it can fetch other hosts safely)."""
        return self._http

    async def create_generation(
        self,
        prompt: str,
        *,
        n: int | None = None,
        size: str | None = None,
        quality: str | None = None,
        image_urls: Sequence[str] | None = None,
        output_format: str | None = None,
        web_search: bool = False,
        callback_url: str | None = None,
        prompt_priority: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutLike | None = None,
        idempotency_key: str | None = None,
    ) -> ImageGenerationResponse:
        """Create a generation task (one POST; each one pre-charges credits for ``n`` images).

        ``idempotency_key`` is sent as ``Idempotency-Key`` and ``X-Evo-Run-Id`` (default: a fresh
        ``run_<32 hex>``); sending the same body again with the same key asks the gateway for the original task
        instead of a new one, where the gateway honours keys (see ``seedream._idempotency``).
        """
        body = self.build_body(
            prompt,
            n=n,
            size=size,
            quality=quality,
            image_urls=image_urls,
            output_format=output_format,
            web_search=web_search,
            callback_url=callback_url,
            prompt_priority=prompt_priority,
            extra_body=extra_body,
        )
        answer = await self._post_create(_encode(body), timeout, self._key_to_send(idempotency_key))
        return answer.response

    async def create_generation_from_body(
        self, body: Mapping[str, Any], *, timeout: TimeoutLike | None = None, idempotency_key: str | None = None
    ) -> ImageGenerationResponse:
        """Create a task from a wire-form body (e.g. one :meth:`build_body` made earlier), checked again first."""
        answer = await self.create_generation_answer(body, timeout=timeout, idempotency_key=idempotency_key)
        return answer.response

    async def create_generation_answer(
        self, body: Mapping[str, Any], *, timeout: TimeoutLike | None = None, idempotency_key: str | None = None
    ) -> CreateAnswer:
        """As :meth:`create_generation_from_body`, with the key sent and whether the answer was a replay."""
        key = self._key_to_send(idempotency_key)
        return await self._post_create(self._checked(body), timeout, key)

    async def _post_create(self, content: bytes, timeout: TimeoutLike | None, idempotency_key: str) -> CreateAnswer:
        deadline, extensions = self._deadline(timeout)
        request = self._create_request(content, extensions, idempotency_key)
        response, body, over = await self._exchange(request, deadline)
        return self._created(response, body, over, idempotency_key)

    async def get_task(self, task_id: str, *, timeout: TimeoutLike | None = None) -> TaskDetailResponse:
        """The task as it stands (one GET). A ``failed`` task is returned, not raised: see ``raise_for_task_status``."""
        deadline, extensions = self._deadline(timeout)
        request = self._task_request(task_id, extensions)
        response, body, over = await self._exchange(request, deadline)
        return self._task(response, body, over)

    async def list_tasks(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        status: str | None = None,
        type_: str | None = None,
        model: str | None = None,
        timeout: TimeoutLike | None = None,
    ) -> TaskListResponse:
        """One page of this account's tasks, newest first (one GET; items carry no result links).

        Each filter is checked against the spec before anything is sent (``page`` >= 1, ``page_size`` in
        [1, 100], ``status``/``type_`` from their enums); None leaves it to the server's default.
        """
        query = self.list_query(page=page, page_size=page_size, status=status, type_=type_, model=model)
        deadline, extensions = self._deadline(timeout)
        request = self._list_request(query, extensions)
        response, body, over = await self._exchange(request, deadline)
        return self._listed(response, body, over)

    async def get_credits(self, *, timeout: TimeoutLike | None = None) -> CreditsResponse:
        """The account's and this key's balance (one GET; reading it costs nothing)."""
        deadline, extensions = self._deadline(timeout)
        request = self._credits_request(extensions)
        response, body, over = await self._exchange(request, deadline)
        return self._balance(response, body, over)

    async def batch_query_tasks(self, task_ids: Sequence[str], *, timeout: TimeoutLike | None = None) -> TaskBatch:
        """Many tasks at once (one ``POST /v1/tasks/batch``, at most 50 ids; a read: nothing is created).

        Each task answered is read as :meth:`get_task` reads one; ids the answer leaves out (unknown, expired,
        another account's) are in ``missing``. An answer about a task not asked for, or one repeating a task,
        is refused whole (:class:`UnexpectedResponseError`).
        """
        ids = _batch_ids(task_ids)
        deadline, extensions = self._deadline(timeout)
        request = self._batch_request(ids, extensions)
        response, body, over = await self._exchange(request, deadline)
        return self._batch(response, body, over, ids)

    async def _exchange(self, request: httpx.Request, deadline: Deadline) -> tuple[httpx.Response, bytes, bool]:
        """Send, stream the answer within ``deadline``; the response, its decoded (capped) body, whether over."""
        token = deadline.enter()
        try:
            response = await self._http.send(request, auth=None, stream=True)
            try:
                body, over = await read_answer(response, deadline, self.max_answer_bytes)
            finally:
                await response.aclose()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc, request, deadline) from exc
        finally:
            deadline.leave(token)
        return response, body, over

    async def close(self) -> None:
        """Close the httpx client if this object created it."""
        if self._own:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
