"""The status of a consultation, by name or by the service's number."""

from __future__ import annotations

import enum


class RequestStatus(enum.StrEnum):
    """Status of a consultation; ``UNKNOWN`` stands for any status the service adds later."""

    REGISTERED = "Registered"
    PRE_PROCESSING = "PreProcessing"
    DELAYED = "Delayed"
    PROCESSING = "Processing"
    POST_PROCESSING = "PostProcessing"
    PROCESSED = "Processed"
    UNSUCCESSFUL = "Unsuccessful"
    UNKNOWN = "Unknown"

    @classmethod
    def _missing_(cls, value: object) -> RequestStatus:
        # Some answers carry the status's number (4, "4") instead of its name.
        # bool is an int subclass but never a status number.
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.from_number(value)
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit():
                return cls.from_number(int(text))
            for member in cls:
                if member.value.lower() == text.lower():
                    return member
        return cls.UNKNOWN

    @property
    def number(self) -> int:
        """The service's ordinal of the status, 1..7; 0 for an unknown one."""
        return _STATUS_NUMBERS[self]

    @property
    def is_final(self) -> bool:
        """Processed and Unsuccessful never change again."""
        return self in (RequestStatus.PROCESSED, RequestStatus.UNSUCCESSFUL)

    @classmethod
    def from_number(cls, number: int) -> RequestStatus:
        for member, num in _STATUS_NUMBERS.items():
            if num == number and member is not cls.UNKNOWN:
                return member
        return cls.UNKNOWN


_STATUS_NUMBERS: dict[RequestStatus, int] = {
    RequestStatus.REGISTERED: 1,
    RequestStatus.PRE_PROCESSING: 2,
    RequestStatus.DELAYED: 3,
    RequestStatus.PROCESSING: 4,
    RequestStatus.POST_PROCESSING: 5,
    RequestStatus.PROCESSED: 6,
    RequestStatus.UNSUCCESSFUL: 7,
    RequestStatus.UNKNOWN: 0,
}
