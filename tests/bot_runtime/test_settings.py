"""Settings: defaults, and each bad setting refused with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
BASE = {"BOT_TOKEN": "123456:TEST-token"}


def test_defaults() -> None:
    s = load_settings(BASE)
    assert s.is_sandbox
    assert s.tmapi_base_url == ""
    assert s.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert s.public_url == "http://127.0.0.1:8080"
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.admin_ids == frozenset()
    assert s.team_chat_id is None
    assert s.default_zone.key == "Europe/Moscow"
    assert (s.invite_ttl_hours, s.reconcile_interval_seconds, s.reminder_lead_minutes) == (
        72,
        180,
        15,
    )
    assert (s.retention_days, s.max_url_length, s.tmapi_phone_form) == (30, 1800, "dotted")
    assert s.sandbox_pace_seconds == 20
    assert not s.webhook_mode
    assert "TEST-token" not in repr(s)  # SecretStr


def test_values_parsed() -> None:
    s = load_settings(
        {
            **BASE,
            "ADMIN_IDS": " 11, 22 ,33,",
            "TEAM_CHAT_ID": "-100123",
            "HTTP_PORT": "9000",
            "TMAPI_BASE_URL": "https://partner.example.com/",
            "PUBLIC_URL": "https://bot.example.com/",
            "DEFAULT_TIMEZONE": "Asia/Novosibirsk",
            "log_level": "debug",
        }
    )
    assert s.admin_ids == frozenset({11, 22, 33})
    assert s.team_chat_id == -100123
    assert s.tmapi_base_url == "https://partner.example.com"
    assert s.hook_url("abc") == "https://bot.example.com/hooks/callback/abc"
    assert not s.is_sandbox
    assert s.log_level == "DEBUG"


def test_public_url_defaults_to_the_port() -> None:
    assert load_settings({**BASE, "HTTP_PORT": "8123"}).public_url == "http://127.0.0.1:8123"


def test_loopback_partner_api_with_loopback_public_url_is_fine() -> None:
    s = load_settings({**BASE, "TMAPI_BASE_URL": "http://127.0.0.1:9999"})
    assert not s.is_sandbox


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "BOT_TOKEN"),
        ({**BASE, "BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
        ({**BASE, "ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({**BASE, "DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
        ({**BASE, "HTTP_PORT": "eighty"}, "HTTP_PORT"),
        ({**BASE, "HTTP_PORT": "70000"}, "HTTP_PORT"),
        ({**BASE, "TEAM_CHAT_ID": "team"}, "TEAM_CHAT_ID"),
        ({**BASE, "TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL"),
        ({**BASE, "TMAPI_BASE_URL": "partner"}, "TMAPI_BASE_URL"),
        ({**BASE, "TMAPI_PHONE_FORM": "weird"}, "TMAPI_PHONE_FORM"),
        ({**BASE, "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({**BASE, "RECONCILE_INTERVAL_SECONDS": "0"}, "RECONCILE_INTERVAL_SECONDS"),
        ({**BASE, "DEFAULT_PHONE_REGION": "Russia"}, "DEFAULT_PHONE_REGION"),
        ({**BASE, "TMAPI_BASE_URL": "https://partner.example.com"}, "PUBLIC_URL"),
        (
            {
                **BASE,
                "TMAPI_BASE_URL": "https://partner.example.com",
                "PUBLIC_URL": "http://localhost:8080",
            },
            "PUBLIC_URL",
        ),
    ],
)
def test_bad_setting_is_one_line_naming_it(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    message = str(info.value)
    assert "\n" not in message
    assert variable in message
    assert len(message) < 300


def test_loopback_public_url_message_says_why() -> None:
    with pytest.raises(ConfigError, match="notifications could never arrive"):
        load_settings({**BASE, "TMAPI_BASE_URL": "https://partner.example.com"})


def _run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT / "tests",  # no .env there: only what we pass counts
        env={**clean, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_without_token_exits_2_with_one_line() -> None:
    result = _run_cli({})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_malformed_admin_ids_from_environment() -> None:
    result = _run_cli({**BASE, "ADMIN_IDS": "1;x"}, "run")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "ADMIN_IDS" in result.stderr


def test_cli_remote_api_with_loopback_public_url_refused() -> None:
    result = _run_cli({**BASE, "TMAPI_BASE_URL": "https://partner.example.com"})
    assert result.returncode == 2
    assert "PUBLIC_URL" in result.stderr and "Traceback" not in result.stderr


def test_cli_ops_commands_are_wired() -> None:
    # bot/ops/backup.py answers (issue 8); without a file it exits 2 before touching the DB.
    result = _run_cli(BASE, "backup")
    assert result.returncode == 2
    assert "give the file" in result.stderr and "not implemented" not in result.stderr


# -- issue 12: secrets and transport -------------------------------------------------------

GOOD_SECRET = "webhook-Secret_42" + "x" * 15  # 32 characters of Telegram's alphabet


def test_webhook_secret_of_32_characters_is_taken() -> None:
    s = load_settings(
        {**BASE, "TELEGRAM_WEBHOOK_SECRET": GOOD_SECRET, "PUBLIC_URL": "https://bot.example.com"}
    )
    assert s.webhook_mode


@pytest.mark.parametrize(
    "secret",
    [
        "short-secret",  # Telegram takes it; guessable is the problem
        "x" * 31,
        "a" * 31 + "!",  # not Telegram's alphabet
        "пароль" * 6,  # str.isalnum() says yes; Telegram says no
        "a" * 257,
    ],
)
def test_weak_or_malformed_webhook_secret_is_one_line(secret: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(
            {**BASE, "TELEGRAM_WEBHOOK_SECRET": secret, "PUBLIC_URL": "https://bot.example.com"}
        )
    message = str(info.value)
    assert "TELEGRAM_WEBHOOK_SECRET" in message and "32" in message
    assert "\n" not in message and secret not in message


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("TMAPI_BASE_URL", "http://partner.example.com"),
        ("TMAPI_AUTH_URL", "http://partner.example.com/token"),
        ("PUBLIC_URL", "http://bot.example.com"),
    ],
)
def test_remote_plain_http_is_refused(variable: str, url: str) -> None:
    env = {
        **BASE,
        "TMAPI_BASE_URL": "https://partner.example.com",
        "PUBLIC_URL": "https://bot.example.com",
        variable: url,
    }
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    message = str(info.value)
    assert variable in message and "https://" in message and "\n" not in message


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9999", "http://localhost:9999", "http://[::1]:9999"]
)
def test_loopback_plain_http_is_allowed(url: str) -> None:
    s = load_settings(
        {**BASE, "TMAPI_BASE_URL": url, "TMAPI_AUTH_URL": f"{url}/token", "PUBLIC_URL": url}
    )
    assert s.tmapi_base_url == s.public_url == url


def test_cli_short_webhook_secret_exits_2() -> None:
    env = {**BASE, "TELEGRAM_WEBHOOK_SECRET": "short", "PUBLIC_URL": "https://bot.example.com"}
    result = _run_cli(env, "run")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TELEGRAM_WEBHOOK_SECRET" in result.stderr and "32" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("hours", ["0", "169", "10000"])
def test_invite_ttl_is_capped_at_a_week(hours: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "INVITE_TTL_HOURS": hours})
    message = str(info.value)
    assert "INVITE_TTL_HOURS" in message and "\n" not in message


def test_invite_ttl_of_a_week_is_taken() -> None:
    assert load_settings({**BASE, "INVITE_TTL_HOURS": "168"}).invite_ttl_hours == 168
