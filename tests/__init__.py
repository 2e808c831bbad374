"""The test suite. aiogram's types are built on first use here as in `python -m bot run`
(bot/aiogram_types.py), whichever test module happens to import aiogram first."""

from bot.aiogram_types import defer_aiogram_builds

defer_aiogram_builds()
