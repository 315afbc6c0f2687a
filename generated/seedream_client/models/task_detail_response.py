# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_detail_response_object import TaskDetailResponseObject
from ..models.task_detail_response_type import TaskDetailResponseType
from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_error import TaskError
    from ..models.task_info import TaskInfo


T = TypeVar("T", bound="TaskDetailResponse")


@_attrs_define
class TaskDetailResponse:
    """A task as returned by the task query and by callbacks.

    Attributes:
        created (int | Unset): Task creation unix timestamp Example: 1756817821.
        id (str | Unset): Task ID Example: task-unified-1756817821-4x3rx6ny.
        model (str | Unset): Model name Example: doubao-seedream-5.0-lite.
        object_ (TaskDetailResponseObject | Unset): Specific task type
        progress (int | Unset): Task progress percentage (0-100) Example: 100.
        results (list[str] | Unset): Result URLs, present when the task completed; for this model the generated images,
            valid for 24 hours.
        status (TaskStatus | Unset): Task status Example: pending.
        task_info (TaskInfo | Unset):
        type_ (TaskDetailResponseType | Unset): Task output type
        error (TaskError | Unset): Present only when `status` is `failed`. `code` is a business code (see the task
            failure table), not an HTTP status.
    """

    created: int | Unset = UNSET
    id: str | Unset = UNSET
    model: str | Unset = UNSET
    object_: TaskDetailResponseObject | Unset = UNSET
    progress: int | Unset = UNSET
    results: list[str] | Unset = UNSET
    status: TaskStatus | Unset = UNSET
    task_info: TaskInfo | Unset = UNSET
    type_: TaskDetailResponseType | Unset = UNSET
    error: TaskError | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created = self.created

        id = self.id

        model = self.model

        object_: str | Unset = UNSET
        if not isinstance(self.object_, Unset):
            object_ = str(self.object_)

        progress = self.progress

        results: list[str] | Unset = UNSET
        if not isinstance(self.results, Unset):
            results = self.results

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = str(self.status)

        task_info: dict[str, Any] | Unset = UNSET
        if not isinstance(self.task_info, Unset):
            task_info = self.task_info.to_dict()

        type_: str | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = str(self.type_)

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

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
        if results is not UNSET:
            field_dict["results"] = results
        if status is not UNSET:
            field_dict["status"] = status
        if task_info is not UNSET:
            field_dict["task_info"] = task_info
        if type_ is not UNSET:
            field_dict["type"] = type_
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_error import TaskError  # noqa: PLC0415
        from ..models.task_info import TaskInfo  # noqa: PLC0415

        d = dict(src_dict)
        created = d.pop("created", UNSET)

        id = d.pop("id", UNSET)

        model = d.pop("model", UNSET)

        _object_ = d.pop("object", UNSET)
        object_: TaskDetailResponseObject | Unset
        if isinstance(_object_, Unset):
            object_ = UNSET
        else:
            object_ = TaskDetailResponseObject(_object_)

        progress = d.pop("progress", UNSET)

        results = cast(list[str], d.pop("results", UNSET))

        _status = d.pop("status", UNSET)
        status: TaskStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = TaskStatus(_status)

        _task_info = d.pop("task_info", UNSET)
        task_info: TaskInfo | Unset
        if isinstance(_task_info, Unset):
            task_info = UNSET
        else:
            task_info = TaskInfo.from_dict(_task_info)

        _type_ = d.pop("type", UNSET)
        type_: TaskDetailResponseType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = TaskDetailResponseType(_type_)

        _error = d.pop("error", UNSET)
        error: TaskError | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = TaskError.from_dict(_error)

        task_detail_response = cls(
            created=created,
            id=id,
            model=model,
            object_=object_,
            progress=progress,
            results=results,
            status=status,
            task_info=task_info,
            type_=type_,
            error=error,
        )

        task_detail_response.additional_properties = d
        return task_detail_response

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
