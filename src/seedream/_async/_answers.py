"""Reading a streamed answer within its deadline, decoded with bounded memory (see ``seedream._answers``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from .._answers import _REFUSED_PREFIX, MAX_ANSWER_BYTES, ContentDecoder, _Body, _in_memory
from .._deadline import Deadline

__all__ = ["raw_body", "read_answer"]


async def _slices(content: bytes, piece: int) -> AsyncIterator[bytes]:
    for start in range(0, len(content), piece):
        yield content[start : start + piece]


def raw_body(response: httpx.Response, piece: int = 64 * 1024) -> tuple[AsyncIterator[bytes], ContentDecoder]:
    """A streamed response's raw chunks and the decoder for them (an answer already in memory: its bytes)."""
    content = _in_memory(response)
    if content is not None:
        return _slices(content, piece), ContentDecoder("", piece)
    return response.aiter_raw(), ContentDecoder(response.headers.get("content-encoding", ""), piece)


async def read_answer(
    response: httpx.Response, deadline: Deadline, limit: int = MAX_ANSWER_BYTES
) -> tuple[bytes, bool]:
    """The decoded body of a streamed answer (at most ``limit`` bytes) and whether more was refused.

    A refused body comes back as its first kilobyte only (for the error message).

    Raw chunks are decoded here, with bounded output per step, so a gzip bomb costs at most ``limit`` bytes
    of memory; the deadline is checked between chunks (each read is bounded by it too, see ``_deadline``).
    """
    content = _in_memory(response)
    if content is not None:
        return (content[:_REFUSED_PREFIX], True) if len(content) > limit else (content, False)
    body = _Body(response.headers.get("content-encoding", ""), limit)
    async for chunk in response.aiter_raw():
        deadline.check(response.request)
        if body.feed(chunk):
            break
    return body.content(), body.over
