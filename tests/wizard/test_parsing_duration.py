import pytest

from bot.input_parsing import InputError
from bot.input_parsing.duration import QUICK_MINUTES, parse_duration


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("30", 30),
        (" 30 ", 30),
        ("30 мин", 30),
        ("30мин.", 30),
        ("30 min", 30),
        ("45m", 45),
        ("90 минут", 90),
        ("1 ч", 60),
        ("1ч", 60),
        ("2 hours", 120),
        ("1.5 h", 90),
        ("1,5 ч", 90),
        ("1:30", 90),
        ("0:45", 45),
        ("1 ч 30 мин", 90),
        ("1ч30м", 90),
        ("5", 5),
        ("180", 180),
        ("3 ч", 180),
    ],
)
def test_valid(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "wizard-duration-error-not-understood"),
        ("полчаса", "wizard-duration-error-not-understood"),
        ("-5", "wizard-duration-error-not-understood"),
        ("1:75", "wizard-duration-error-not-understood"),
        ("30 сек", "wizard-duration-error-not-understood"),
        ("4", "wizard-duration-error-too-short"),
        ("0", "wizard-duration-error-too-short"),
        ("181", "wizard-duration-error-too-long"),
        ("4 ч", "wizard-duration-error-too-long"),
    ],
)
def test_invalid(text: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_duration(text)
    assert info.value.reason == reason
    assert info.value.args_ == {"min": 5, "max": 180}


def test_quick_buttons_are_in_range() -> None:
    assert QUICK_MINUTES == (15, 30, 45, 60)
    assert all(parse_duration(str(m)) == m for m in QUICK_MINUTES)
