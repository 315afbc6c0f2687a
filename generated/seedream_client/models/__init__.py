# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
"""Contains all the data models used in inputs/outputs"""

from .credits_balance import CreditsBalance
from .credits_data import CreditsData
from .credits_response import CreditsResponse
from .error_response import ErrorResponse
from .error_response_error import ErrorResponseError
from .image_generation_request import ImageGenerationRequest
from .image_generation_request_model import ImageGenerationRequestModel
from .image_generation_request_model_params import ImageGenerationRequestModelParams
from .image_generation_request_model_params_output_format import ImageGenerationRequestModelParamsOutputFormat
from .image_generation_request_model_params_tools_item import ImageGenerationRequestModelParamsToolsItem
from .image_generation_request_model_params_tools_item_type import ImageGenerationRequestModelParamsToolsItemType
from .image_generation_request_prompt_priority import ImageGenerationRequestPromptPriority
from .image_generation_request_quality import ImageGenerationRequestQuality
from .image_generation_response import ImageGenerationResponse
from .image_generation_response_object import ImageGenerationResponseObject
from .image_generation_response_type import ImageGenerationResponseType
from .task_batch_request import TaskBatchRequest
from .task_batch_response import TaskBatchResponse
from .task_detail_response import TaskDetailResponse
from .task_detail_response_object import TaskDetailResponseObject
from .task_detail_response_type import TaskDetailResponseType
from .task_error import TaskError
from .task_info import TaskInfo
from .task_list_item import TaskListItem
from .task_list_response import TaskListResponse
from .task_status import TaskStatus
from .task_type import TaskType
from .token_credits import TokenCredits
from .usage import Usage
from .usage_billing_rule import UsageBillingRule

__all__ = (
    "CreditsBalance",
    "CreditsData",
    "CreditsResponse",
    "ErrorResponse",
    "ErrorResponseError",
    "ImageGenerationRequest",
    "ImageGenerationRequestModel",
    "ImageGenerationRequestModelParams",
    "ImageGenerationRequestModelParamsOutputFormat",
    "ImageGenerationRequestModelParamsToolsItem",
    "ImageGenerationRequestModelParamsToolsItemType",
    "ImageGenerationRequestPromptPriority",
    "ImageGenerationRequestQuality",
    "ImageGenerationResponse",
    "ImageGenerationResponseObject",
    "ImageGenerationResponseType",
    "TaskBatchRequest",
    "TaskBatchResponse",
    "TaskDetailResponse",
    "TaskDetailResponseObject",
    "TaskDetailResponseType",
    "TaskError",
    "TaskInfo",
    "TaskListItem",
    "TaskListResponse",
    "TaskStatus",
    "TaskType",
    "TokenCredits",
    "Usage",
    "UsageBillingRule",
)
