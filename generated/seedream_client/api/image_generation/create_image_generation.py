# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.image_generation_request import ImageGenerationRequest
from ...models.image_generation_response import ImageGenerationResponse
from ...types import UNSET, Response, Unset, status_of


def _get_kwargs(
    *,
    body: ImageGenerationRequest,
    idempotency_key: str | Unset = UNSET,
    x_evo_run_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(x_evo_run_id, Unset):
        headers["X-Evo-Run-Id"] = x_evo_run_id

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/images/generations",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | ImageGenerationResponse | None:
    if response.status_code == 200:
        response_200 = ImageGenerationResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = ErrorResponse.from_dict(response.json())

        return response_402

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | ImageGenerationResponse]:
    return Response(
        status_code=status_of(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ImageGenerationRequest,
    idempotency_key: str | Unset = UNSET,
    x_evo_run_id: str | Unset = UNSET,
) -> Response[ErrorResponse | ImageGenerationResponse]:
    """doubao-seedream-5.0-lite Interface

     - Seedream 5.0 Lite (doubao-seedream-5.0-lite) model supports text-to-image, image-to-image, image
    editing and other generation modes
    - Asynchronous processing mode, use the returned task ID to [query](/en/api-manual/task-
    management/get-task-detail)
    - Generated image links are valid for 24 hours, please save them promptly

    Args:
        idempotency_key (str | Unset):
        x_evo_run_id (str | Unset):
        body (ImageGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | ImageGenerationResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        x_evo_run_id=x_evo_run_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ImageGenerationRequest,
    idempotency_key: str | Unset = UNSET,
    x_evo_run_id: str | Unset = UNSET,
) -> ErrorResponse | ImageGenerationResponse | None:
    """doubao-seedream-5.0-lite Interface

     - Seedream 5.0 Lite (doubao-seedream-5.0-lite) model supports text-to-image, image-to-image, image
    editing and other generation modes
    - Asynchronous processing mode, use the returned task ID to [query](/en/api-manual/task-
    management/get-task-detail)
    - Generated image links are valid for 24 hours, please save them promptly

    Args:
        idempotency_key (str | Unset):
        x_evo_run_id (str | Unset):
        body (ImageGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | ImageGenerationResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        x_evo_run_id=x_evo_run_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ImageGenerationRequest,
    idempotency_key: str | Unset = UNSET,
    x_evo_run_id: str | Unset = UNSET,
) -> Response[ErrorResponse | ImageGenerationResponse]:
    """doubao-seedream-5.0-lite Interface

     - Seedream 5.0 Lite (doubao-seedream-5.0-lite) model supports text-to-image, image-to-image, image
    editing and other generation modes
    - Asynchronous processing mode, use the returned task ID to [query](/en/api-manual/task-
    management/get-task-detail)
    - Generated image links are valid for 24 hours, please save them promptly

    Args:
        idempotency_key (str | Unset):
        x_evo_run_id (str | Unset):
        body (ImageGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | ImageGenerationResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        x_evo_run_id=x_evo_run_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ImageGenerationRequest,
    idempotency_key: str | Unset = UNSET,
    x_evo_run_id: str | Unset = UNSET,
) -> ErrorResponse | ImageGenerationResponse | None:
    """doubao-seedream-5.0-lite Interface

     - Seedream 5.0 Lite (doubao-seedream-5.0-lite) model supports text-to-image, image-to-image, image
    editing and other generation modes
    - Asynchronous processing mode, use the returned task ID to [query](/en/api-manual/task-
    management/get-task-detail)
    - Generated image links are valid for 24 hours, please save them promptly

    Args:
        idempotency_key (str | Unset):
        x_evo_run_id (str | Unset):
        body (ImageGenerationRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | ImageGenerationResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            x_evo_run_id=x_evo_run_id,
        )
    ).parsed
