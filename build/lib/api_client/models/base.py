"""The tolerant base of every contract model and the field types it is built from."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic.alias_generators import to_camel

# One logger for all the models, as before they were split into modules.
logger = logging.getLogger("api_client.models")


def unwrap_item(payload: Any) -> Any:
    """Return the object inside an ``{"item": {...}}`` wrapper, or the payload itself.

    Only a dict whose ``item`` is a dict and that has no ``id`` of its own is a wrapper:
    a real object that merely has an ``item`` field stays as it is.
    """
    if isinstance(payload, dict) and isinstance(payload.get("item"), dict) and "id" not in payload:
        return payload["item"]
    return payload


def _as_utc(value: Any) -> Any:
    # The real service sends naive stamps that are UTC; aware ones are normalised to UTC
    # so that comparisons and storage never mix zones.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return value


def _none_on_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return _as_utc(handler(value))
    except ValidationError as exc:
        # Never log the value itself: it may be a patient's phone or name.
        logger.debug("partner api: unreadable field dropped (%s errors)", exc.error_count())
        return None


def _null_to_empty(value: Any) -> Any:
    return [] if value is None else value


def _birth_date(value: Any) -> Any:
    # "1980-01-01T00:00:00" (and with a non-zero time or offset) → the date part only:
    # a birth date is a calendar date, not an instant to shift between zones.
    if isinstance(value, str) and "T" in value:
        return value.split("T", 1)[0]
    return value


def _lenient_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return round(value)
    return value


UtcDateTime = Annotated[datetime | None, WrapValidator(_none_on_error)]
"""A timestamp: naive → UTC, aware → converted to UTC, unreadable → None."""

LenientInt = Annotated[int | None, BeforeValidator(_lenient_int)]


_T = TypeVar("_T")

Lenient = Annotated[_T | None, WrapValidator(_none_on_error)]
"""An optional nested object that degrades to None when it cannot be read."""

Items = Annotated[list[_T], BeforeValidator(_null_to_empty)]
"""A list that may be missing or null (→ [])."""


class ApiModel(BaseModel):
    """Base of every contract model: camelCase aliases, snake_case names, tolerant."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        coerce_numbers_to_str=True,
    )


class _Unwrapping(ApiModel):
    """A top-level object that may come bare or as ``{"item": {...}}``."""

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        return unwrap_item(data)

    @classmethod
    def parse_payload(cls, payload: Any) -> Self:
        """Parse a decoded JSON answer, bare or wrapped."""
        return cls.model_validate(payload)
