# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.image_generation_response_object import ImageGenerationResponseObject
from ..models.image_generation_response_type import ImageGenerationResponseType
from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_info import TaskInfo
    from ..models.usage import Usage


T = TypeVar("T", bound="ImageGenerationResponse")


@_attrs_define
class ImageGenerationResponse:
    """
    Attributes:
        created (int | Unset): Task creation timestamp Example: 1757165031.
        id (str | Unset): Task ID Example: task-unified-1757165031-seedream5lite.
        model (str | Unset): Actual model name used Example: doubao-seedream-5.0-lite.
        object_ (ImageGenerationResponseObject | Unset): Specific task type
        progress (int | Unset): Task progress percentage (0-100) Example: 0.
        task_info (TaskInfo | Unset):
        type_ (ImageGenerationResponseType | Unset): Task output type Example: image.
        usage (Usage | Unset): Usage and billing information
        status (TaskStatus | Unset): Task status Example: pending.
    """

    created: int | Unset = UNSET
    id: str | Unset = UNSET
    model: str | Unset = UNSET
    object_: ImageGenerationResponseObject | Unset = UNSET
    progress: int | Unset = UNSET
    task_info: TaskInfo | Unset = UNSET
    type_: ImageGenerationResponseType | Unset = UNSET
    usage: Usage | Unset = UNSET
    status: TaskStatus | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created = self.created

        id = self.id

        model = self.model

        object_: str | Unset = UNSET
        if not isinstance(self.object_, Unset):
            object_ = str(self.object_)

        progress = self.progress

        task_info: dict[str, Any] | Unset = UNSET
        if not isinstance(self.task_info, Unset):
            task_info = self.task_info.to_dict()

        type_: str | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = str(self.type_)

        usage: dict[str, Any] | Unset = UNSET
        if not isinstance(self.usage, Unset):
            usage = self.usage.to_dict()

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = str(self.status)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if created is not UNSET:
            field_dict["created"] = created
        if id is not UNSET:
            field_dict["id"] = id
        if model is not UNSET:
            field_dict["model"] = model
        if object_ is not UNSET:
            field_dict["object"] = object_
        if progress is not UNSET:
            field_dict["progress"] = progress
        if task_info is not UNSET:
            field_dict["task_info"] = task_info
        if type_ is not UNSET:
            field_dict["type"] = type_
        if usage is not UNSET:
            field_dict["usage"] = usage
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_info import TaskInfo  # noqa: PLC0415
        from ..models.usage import Usage  # noqa: PLC0415

        d = dict(src_dict)
        created = d.pop("created", UNSET)

        id = d.pop("id", UNSET)

        model = d.pop("model", UNSET)

        _object_ = d.pop("object", UNSET)
        object_: ImageGenerationResponseObject | Unset
        if isinstance(_object_, Unset):
            object_ = UNSET
        else:
            object_ = ImageGenerationResponseObject(_object_)

        progress = d.pop("progress", UNSET)

        _task_info = d.pop("task_info", UNSET)
        task_info: TaskInfo | Unset
        if isinstance(_task_info, Unset):
            task_info = UNSET
        else:
            task_info = TaskInfo.from_dict(_task_info)

        _type_ = d.pop("type", UNSET)
        type_: ImageGenerationResponseType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = ImageGenerationResponseType(_type_)

        _usage = d.pop("usage", UNSET)
        usage: Usage | Unset
        if isinstance(_usage, Unset):
            usage = UNSET
        else:
            usage = Usage.from_dict(_usage)

        _status = d.pop("status", UNSET)
        status: TaskStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = TaskStatus(_status)

        image_generation_response = cls(
            created=created,
            id=id,
            model=model,
            object_=object_,
            progress=progress,
            task_info=task_info,
            type_=type_,
            usage=usage,
            status=status,
        )

        image_generation_response.additional_properties = d
        return image_generation_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
