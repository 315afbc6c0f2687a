# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import seedream_rules
from attrs import define as _attrs_define
from attrs import field as _attrs_field
from seedream_rules import DEFAULT_OPTIONS, RuleOptions

from ..errors import ConstraintViolation
from ..models.image_generation_request_model import ImageGenerationRequestModel
from ..models.image_generation_request_prompt_priority import ImageGenerationRequestPromptPriority
from ..models.image_generation_request_quality import ImageGenerationRequestQuality
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_generation_request_model_params import ImageGenerationRequestModelParams


RULES = seedream_rules.resolve(
    [
        "references-plus-n",
        "json-text",
        "size-pixel-range",
        "size-aspect-range",
        "reference-image-size",
        "reference-image-format",
        "reference-image-aspect",
        "reference-image-min-side",
        "reference-image-max-pixels",
        "callback-host-not-internal",
    ]
)


T = TypeVar("T", bound="ImageGenerationRequest")


@_attrs_define
class ImageGenerationRequest:
    """
    Attributes:
        model (ImageGenerationRequestModel): Image generation model name Default:
            ImageGenerationRequestModel.DOUBAO_SEEDREAM_5_0_LITE. Example: doubao-seedream-5.0-lite.
        prompt (str): Prompt describing the image you want to generate, or describing how to edit the input image,
            limited to 2000 tokens Example: A serene lake reflecting the beautiful sunset.
        n (int | Unset): Maximum number of images to generate, supports any integer value between `[1,15]`

            **Note:**
            - To generate multiple images, include prompts like: "generate 2 different images" in your prompt

            - Reference image count + final generated image count ≤ 15 images

            - If: reference image count + images requested in prompt > 15, and images requested in prompt ≤ parameter n
            value, then final generated images = 15 - reference image count
            - Each request will pre-charge based on the value of `n`, actual charges based on the number of images generated
            Example: 1.
        size (str | Unset): Size of generated image, supports two formats:

            **Method 1 - Ratio format:**
            - `auto`, `1:1`, `2:3`, `3:2`, `3:4`, `4:3`, `4:5`, `5:4`, `9:16`, `16:9`, `21:9`
            - Works with `quality` parameter to automatically generate images at the specified ratio and resolution, no need
            to specify exact pixels

            **Method 2 - Pixel format:**
            - Width x Height, e.g.: `2560x1440`, `2048x2048`, `3072x3072` and other values within range
            - Default: `2048x2048`
            - Total pixel range: `[2560x1440, 3072x3072]`
            - Aspect ratio range: `[1/16, 16]` Example: 16:9.
        quality (ImageGenerationRequestQuality | Unset): Resolution tier, used in combination with ratio format of
            `size`

            **Options:**
            - `2K`: 2K resolution
            - `3K`: 3K resolution

            Works with ratio format of `size` to automatically generate images at the corresponding resolution Example: 2K.
        prompt_priority (ImageGenerationRequestPromptPriority | Unset): Prompt optimization strategy, used to set the
            mode for prompt optimization

            **Options:**
            - `standard`: Standard mode, higher quality output, longer processing time Default:
            ImageGenerationRequestPromptPriority.STANDARD. Example: standard.
        image_urls (list[str] | Unset): Reference image URL list for image-to-image and image editing features

            **Note:**
            - Single request supports input image quantity: `14` images
            - Image size: no more than `10MB`
            - Supported image formats: `.jpeg`, `.jpg`, `.png`, `.webp`, `.bmp`, `.tiff`, `.gif`
            - Aspect ratio (width/height) range: `[1/16, 16]`
            - Width and height (px) > 14
            - Total pixels: no more than `6000×6000`
            - Image URLs must be directly viewable by the server, or the image URL should trigger direct download when
            accessed (typically these URLs end with image file extensions, such as `.png`, `.jpg`) Example:
            ['https://example.com/image1.png', 'https://example.com/image2.png'].
        model_params (ImageGenerationRequestModelParams | Unset): **Supported parameters:**
            - `output_format`: Output image format
            - `tools`: Web search tool
        callback_url (str | Unset): HTTPS callback address after task completion

            **Callback Timing:**
            - Triggered when task is completed, failed, or cancelled
            - Sent after billing confirmation is completed

            **Security Restrictions:**
            - Only HTTPS protocol is supported
            - Callback to internal IP addresses is prohibited (127.0.0.1, 10.x.x.x, 172.16-31.x.x, 192.168.x.x, etc.)
            - URL length must not exceed `2048` characters

            **Callback Mechanism:**
            - Timeout: `10` seconds
            - Maximum `3` retries on failure (retries after `1` second/`2` seconds/`4` seconds)
            - Callback response body format is consistent with the task query API response format
            - Callback address returning 2xx status code is considered successful, other status codes will trigger retry
            Example: https://your-domain.com/webhooks/image-task-completed.
    """

    prompt: str
    model: ImageGenerationRequestModel = ImageGenerationRequestModel.DOUBAO_SEEDREAM_5_0_LITE
    n: int | Unset = UNSET
    size: str | Unset = UNSET
    quality: ImageGenerationRequestQuality | Unset = UNSET
    prompt_priority: ImageGenerationRequestPromptPriority | Unset = ImageGenerationRequestPromptPriority.STANDARD
    image_urls: list[str] | Unset = UNSET
    model_params: ImageGenerationRequestModelParams | Unset = UNSET
    callback_url: str | Unset = UNSET
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
        if "model" not in data:
            raise ConstraintViolation(f"{_p}model", None, "required")
        if "prompt" not in data:
            raise ConstraintViolation(f"{_p}prompt", None, "required")
        if "model" in data:
            if not isinstance(data["model"], str):
                raise ConstraintViolation(f"{_p}model", data["model"], "type: must be a string")
            if data["model"] not in ["doubao-seedream-5.0-lite"]:
                raise ConstraintViolation(f"{_p}model", data["model"], "enum: one of doubao-seedream-5.0-lite")

        if "prompt" in data:
            if not isinstance(data["prompt"], str):
                raise ConstraintViolation(f"{_p}prompt", data["prompt"], "type: must be a string")
            if len(data["prompt"]) > 2000:
                raise ConstraintViolation(f"{_p}prompt", data["prompt"], "maxLength: at most 2000 characters")

        if "n" in data:
            if isinstance(data["n"], bool) or not (
                isinstance(data["n"], int) or (isinstance(data["n"], float) and data["n"].is_integer())
            ):
                raise ConstraintViolation(f"{_p}n", data["n"], "type: must be an integer")
            if data["n"] < 1.0:
                raise ConstraintViolation(f"{_p}n", data["n"], "minimum: at least 1")
            if data["n"] > 15.0:
                raise ConstraintViolation(f"{_p}n", data["n"], "maximum: at most 15")

        if "size" in data:
            if not isinstance(data["size"], str):
                raise ConstraintViolation(f"{_p}size", data["size"], "type: must be a string")
            if not seedream_rules.pattern(
                "^(auto|1:1|2:3|3:2|3:4|4:3|4:5|5:4|9:16|16:9|21:9|[1-9][0-9]{0,5}x[1-9][0-9]{0,5})$"
            ).search(data["size"]):
                raise ConstraintViolation(
                    f"{_p}size",
                    data["size"],
                    "pattern: must match ^(auto|1:1|2:3|3:2|3:4|4:3|4:5|5:4|9:16|16:9|21:9|[1-9][0-9]{0,5}x[1-9][0-9]{0,5})$",
                )

        if "quality" in data:
            if not isinstance(data["quality"], str):
                raise ConstraintViolation(f"{_p}quality", data["quality"], "type: must be a string")
            if data["quality"] not in ["2K", "3K"]:
                raise ConstraintViolation(f"{_p}quality", data["quality"], "enum: one of 2K, 3K")

        if "prompt_priority" in data:
            if not isinstance(data["prompt_priority"], str):
                raise ConstraintViolation(f"{_p}prompt_priority", data["prompt_priority"], "type: must be a string")
            if data["prompt_priority"] not in ["standard"]:
                raise ConstraintViolation(f"{_p}prompt_priority", data["prompt_priority"], "enum: one of standard")

        if "image_urls" in data:
            if not isinstance(data["image_urls"], list):
                raise ConstraintViolation(f"{_p}image_urls", data["image_urls"], "type: must be an array")
            if len(data["image_urls"]) > 14:
                raise ConstraintViolation(f"{_p}image_urls", data["image_urls"], "maxItems: at most 14 items")
            for _i2, _v2 in enumerate(data["image_urls"]):
                if not isinstance(_v2, str):
                    raise ConstraintViolation(f"{_p}image_urls[{_i2}]", _v2, "type: must be a string")
                if not seedream_rules.is_uri(_v2):
                    raise ConstraintViolation(
                        f"{_p}image_urls[{_i2}]", _v2, "format: uri (RFC 3986 absolute URI, port at most 65535)"
                    )

        if "model_params" in data:
            if not isinstance(data["model_params"], Mapping):
                raise ConstraintViolation(f"{_p}model_params", data["model_params"], "type: must be an object")
            if "output_format" in data["model_params"]:
                if not isinstance(data["model_params"]["output_format"], str):
                    raise ConstraintViolation(
                        f"{_p}model_params.output_format",
                        data["model_params"]["output_format"],
                        "type: must be a string",
                    )
                if data["model_params"]["output_format"] not in ["png", "jpeg"]:
                    raise ConstraintViolation(
                        f"{_p}model_params.output_format",
                        data["model_params"]["output_format"],
                        "enum: one of png, jpeg",
                    )

            if "tools" in data["model_params"]:
                if not isinstance(data["model_params"]["tools"], list):
                    raise ConstraintViolation(
                        f"{_p}model_params.tools", data["model_params"]["tools"], "type: must be an array"
                    )
                for _i3, _v3 in enumerate(data["model_params"]["tools"]):
                    if not isinstance(_v3, Mapping):
                        raise ConstraintViolation(f"{_p}model_params.tools[{_i3}]", _v3, "type: must be an object")
                    if "type" not in _v3:
                        raise ConstraintViolation(f"{_p}model_params.tools[{_i3}].type", None, "required")
                    if "type" in _v3:
                        if not isinstance(_v3["type"], str):
                            raise ConstraintViolation(
                                f"{_p}model_params.tools[{_i3}].type", _v3["type"], "type: must be a string"
                            )
                        if _v3["type"] not in ["web_search"]:
                            raise ConstraintViolation(
                                f"{_p}model_params.tools[{_i3}].type", _v3["type"], "enum: one of web_search"
                            )

        if "callback_url" in data:
            if not isinstance(data["callback_url"], str):
                raise ConstraintViolation(f"{_p}callback_url", data["callback_url"], "type: must be a string")
            if len(data["callback_url"]) > 2048:
                raise ConstraintViolation(
                    f"{_p}callback_url", data["callback_url"], "maxLength: at most 2048 characters"
                )
            if not seedream_rules.pattern("^[Hh][Tt][Tt][Pp][Ss]://").search(data["callback_url"]):
                raise ConstraintViolation(
                    f"{_p}callback_url", data["callback_url"], "pattern: must match ^[Hh][Tt][Tt][Pp][Ss]://"
                )
            if not seedream_rules.is_uri(data["callback_url"]):
                raise ConstraintViolation(
                    f"{_p}callback_url", data["callback_url"], "format: uri (RFC 3986 absolute URI, port at most 65535)"
                )

        seedream_rules.apply(RULES, data, path, rule_options)

    def to_dict(self) -> dict[str, Any]:
        model = str(self.model)

        prompt = self.prompt

        n = self.n

        size = self.size

        quality: str | Unset = UNSET
        if not isinstance(self.quality, Unset):
            quality = str(self.quality)

        prompt_priority: str | Unset = UNSET
        if not isinstance(self.prompt_priority, Unset):
            prompt_priority = str(self.prompt_priority)

        image_urls: list[str] | Unset = UNSET
        if not isinstance(self.image_urls, Unset):
            image_urls = self.image_urls

        model_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.model_params, Unset):
            model_params = self.model_params.to_dict()

        callback_url = self.callback_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "prompt": prompt,
            }
        )
        if n is not UNSET:
            field_dict["n"] = n
        if size is not UNSET:
            field_dict["size"] = size
        if quality is not UNSET:
            field_dict["quality"] = quality
        if prompt_priority is not UNSET:
            field_dict["prompt_priority"] = prompt_priority
        if image_urls is not UNSET:
            field_dict["image_urls"] = image_urls
        if model_params is not UNSET:
            field_dict["model_params"] = model_params
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url

        self.validate_dict(field_dict)
        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_generation_request_model_params import ImageGenerationRequestModelParams  # noqa: PLC0415

        # A request body is judged before any field is converted: a bad value gets the field and the rule,
        # not the enum's bare ValueError.
        cls.validate_dict(src_dict)
        d = dict(src_dict)
        model = ImageGenerationRequestModel(d.pop("model"))

        prompt = d.pop("prompt")

        n = d.pop("n", UNSET)

        size = d.pop("size", UNSET)

        _quality = d.pop("quality", UNSET)
        quality: ImageGenerationRequestQuality | Unset
        if isinstance(_quality, Unset):
            quality = UNSET
        else:
            quality = ImageGenerationRequestQuality(_quality)

        _prompt_priority = d.pop("prompt_priority", UNSET)
        prompt_priority: ImageGenerationRequestPromptPriority | Unset
        if isinstance(_prompt_priority, Unset):
            prompt_priority = UNSET
        else:
            prompt_priority = ImageGenerationRequestPromptPriority(_prompt_priority)

        image_urls = cast(list[str], d.pop("image_urls", UNSET))

        _model_params = d.pop("model_params", UNSET)
        model_params: ImageGenerationRequestModelParams | Unset
        if isinstance(_model_params, Unset):
            model_params = UNSET
        else:
            model_params = ImageGenerationRequestModelParams.from_dict(_model_params)

        callback_url = d.pop("callback_url", UNSET)

        image_generation_request = cls(
            model=model,
            prompt=prompt,
            n=n,
            size=size,
            quality=quality,
            prompt_priority=prompt_priority,
            image_urls=image_urls,
            model_params=model_params,
            callback_url=callback_url,
        )

        image_generation_request.additional_properties = d
        return image_generation_request

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
