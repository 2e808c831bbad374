"""matplotlib is loaded only when a report is made: importing every module of the bot and
the whole production start-up (until it polls) leave it out of ``sys.modules``; drawing one
chart brings it in (so the check can see it). Run in a fresh interpreter: this test process
may have drawn charts already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, importlib, json, pkgutil, sys, tempfile
from pathlib import Path

HEAVY = ("matplotlib", "numpy", "PIL", "contourpy", "kiwisolver")

def heavy():
    return sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in HEAVY})

seen = {}
for package in ("bot", "api_client", "storage"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if info.name.endswith("__main__") or ".migrations" in info.name:
            continue
        importlib.import_module(info.name)
seen["imports"] = heavy()

from storage.migrate import upgrade
from tests.bot_fixtures import app_settings, run_app
from tests.fake_telegram import FakeTelegram

async def start():
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bot.db'}"
        await upgrade(url)
        async with FakeTelegram() as tg:
            async with run_app(app_settings(tg, url)):
                await tg.wait_for(lambda: tg.get_updates_calls > 0, timeout=60)
                seen["started"] = heavy()

asyncio.run(start())

from bot.rendering.report_chart import ChartInput, draw_chart
draw_chart(ChartInput("t", "d", "s", "none", ["1"], {"reached": ("r", [1])}, []))
seen["after_a_chart"] = heavy()
print(json.dumps(seen))
"""


def test_matplotlib_only_with_a_report() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["imports"] == []
    assert seen["started"] == []
    assert "matplotlib" in seen["after_a_chart"]
