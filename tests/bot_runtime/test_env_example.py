"""`.env.example` lists every field of `Settings` with its default, so the two cannot drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr, TypeAdapter
from pydantic_core import PydanticUndefined

from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def parse_env(text: str) -> dict[str, str]:
    """NAME=value lines; comments and blank lines skipped; a repeated name is an error."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f".env.example line {number} is not NAME=value: {raw!r}"
        name = name.strip()
        assert name not in values, f".env.example names {name} twice"
        values[name] = value.strip().strip('"').strip("'")
    return values


def _is_empty_default(default: Any) -> bool:
    """Defaults an empty value in the file stands for: None, "", an empty collection,
    an empty secret; and "required" (no default: the operator fills it in)."""
    if default is PydanticUndefined or default is None:
        return True
    if isinstance(default, SecretStr):
        return default.get_secret_value() == ""
    if isinstance(default, str | frozenset | set | list | tuple | dict):
        return len(default) == 0
    return False


def drift(example: dict[str, str]) -> list[str]:
    problems: list[str] = []
    fields = {(f.alias or name).upper(): f for name, f in Settings.model_fields.items()}
    for name in sorted(fields.keys() - example.keys()):
        problems.append(f"{name} is a setting but missing from .env.example")
    for name in sorted(example.keys() - fields.keys()):
        problems.append(f"{name} is in .env.example but not a setting")
    for name in sorted(fields.keys() & example.keys()):
        field, value = fields[name], example[name]
        default = field.get_default(call_default_factory=True)
        if _is_empty_default(default):
            if value != "":
                problems.append(f"{name}={value} but the default is empty ({default!r})")
            continue
        if value == "":
            problems.append(f"{name} is empty but the default is {default!r}")
            continue
        try:
            parsed = TypeAdapter(field.annotation).validate_python(value)
        except ValueError as exc:
            problems.append(f"{name}={value} does not parse: {exc}")
            continue
        if isinstance(parsed, SecretStr):
            parsed = parsed.get_secret_value()
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        if parsed != default:
            problems.append(f"{name}={value} but the default is {default!r}")
    return problems


def test_env_example_lists_every_setting_with_its_default() -> None:
    assert drift(parse_env(EXAMPLE.read_text(encoding="utf-8"))) == []


def test_the_comparison_catches_drift() -> None:
    example = parse_env(EXAMPLE.read_text(encoding="utf-8"))
    assert example["SANDBOX_PACE_SECONDS"] == "20"  # "20" is the float 20.0: no drift

    missing = dict(example)
    del missing["RETENTION_DAYS"]
    assert drift(missing) == ["RETENTION_DAYS is a setting but missing from .env.example"]

    changed = {**example, "REMINDER_LEAD_MINUTES": "10", "HTTP_HOST": ""}
    assert drift(changed) == [
        "HTTP_HOST is empty but the default is '0.0.0.0'",
        "REMINDER_LEAD_MINUTES=10 but the default is 15",
    ]

    extra = {**example, "TMAPI_SECRET": "", "TMAPI_ACCESS_TOKEN": "abc"}
    assert drift(extra) == [
        "TMAPI_SECRET is in .env.example but not a setting",
        "TMAPI_ACCESS_TOKEN=abc but the default is empty (None)",
    ]
