# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from seedream_rules import DEFAULT_OPTIONS, RuleOptions

from ..errors import ConstraintViolation
from ..models.image_generation_request_model_params_output_format import ImageGenerationRequestModelParamsOutputFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_generation_request_model_params_tools_item import ImageGenerationRequestModelParamsToolsItem


T = TypeVar("T", bound="ImageGenerationRequestModelParams")


@_attrs_define
class ImageGenerationRequestModelParams:
    """**Supported parameters:**
    - `output_format`: Output image format
    - `tools`: Web search tool

        Attributes:
            output_format (ImageGenerationRequestModelParamsOutputFormat | Unset): Output image format

                **Options:**
                - `png`: PNG format
                - `jpeg`: JPEG format Example: jpeg.
            tools (list[ImageGenerationRequestModelParamsToolsItem] | Unset): Web search tool. When enabled, the model will
                automatically decide whether to search based on the prompt. Search will incur additional charges

                **Format:**
                - `[{"type": "web_search"}]` Example: [{'type': 'web_search'}].
    """

    output_format: ImageGenerationRequestModelParamsOutputFormat | Unset = UNSET
    tools: list[ImageGenerationRequestModelParamsToolsItem] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    @staticmethod
    def validate_dict(data: Any, path: str = "", rule_options: RuleOptions = DEFAULT_OPTIONS) -> None:
        """Check wire-form ``data`` against every constraint of this schema, then its prose rules.

        Raises ConstraintViolation naming the field, the value, the rule and
        its id. Generated from the bundled spec; the rules JSON Schema cannot
        express are called from ``seedream_rules`` by their ``x-seedream-rules``
        id (``RULES``). ``rule_options`` holds explicit test-only departures
        (internal callback hosts).
        """
        _p = f"{path}." if path else ""
        if not isinstance(data, Mapping):
            raise ConstraintViolation(path or "(body)", data, "type: must be an object")
        if "output_format" in data:
            if not isinstance(data["output_format"], str):
                raise ConstraintViolation(f"{_p}output_format", data["output_format"], "type: must be a string")
            if data["output_format"] not in ["png", "jpeg"]:
                raise ConstraintViolation(f"{_p}output_format", data["output_format"], "enum: one of png, jpeg")

        if "tools" in data:
            if not isinstance(data["tools"], list):
                raise ConstraintViolation(f"{_p}tools", data["tools"], "type: must be an array")
            for _i2, _v2 in enumerate(data["tools"]):
                if not isinstance(_v2, Mapping):
                    raise ConstraintViolation(f"{_p}tools[{_i2}]", _v2, "type: must be an object")
                if "type" not in _v2:
                    raise ConstraintViolation(f"{_p}tools[{_i2}].type", None, "required")
                if "type" in _v2:
                    if not isinstance(_v2["type"], str):
                        raise ConstraintViolation(f"{_p}tools[{_i2}].type", _v2["type"], "type: must be a string")
                    if _v2["type"] not in ["web_search"]:
                        raise ConstraintViolation(f"{_p}tools[{_i2}].type", _v2["type"], "enum: one of web_search")

    def to_dict(self) -> dict[str, Any]:
        output_format: str | Unset = UNSET
        if not isinstance(self.output_format, Unset):
            output_format = str(self.output_format)

        tools: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.tools, Unset):
            tools = []
            for tools_item_data in self.tools:
                tools_item = tools_item_data.to_dict()
                tools.append(tools_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if output_format is not UNSET:
            field_dict["output_format"] = output_format
        if tools is not UNSET:
            field_dict["tools"] = tools

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_generation_request_model_params_tools_item import ImageGenerationRequestModelParamsToolsItem  # noqa: PLC0415

        d = dict(src_dict)
        _output_format = d.pop("output_format", UNSET)
        output_format: ImageGenerationRequestModelParamsOutputFormat | Unset
        if isinstance(_output_format, Unset):
            output_format = UNSET
        else:
            output_format = ImageGenerationRequestModelParamsOutputFormat(_output_format)

        _tools = d.pop("tools", UNSET)
        tools: list[ImageGenerationRequestModelParamsToolsItem] | Unset = UNSET
        if _tools is not UNSET:
            tools = []
            for tools_item_data in _tools:
                tools_item = ImageGenerationRequestModelParamsToolsItem.from_dict(tools_item_data)

                tools.append(tools_item)

        image_generation_request_model_params = cls(
            output_format=output_format,
            tools=tools,
        )

        image_generation_request_model_params.additional_properties = d
        return image_generation_request_model_params

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
