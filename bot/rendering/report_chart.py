"""The report's chart (PNG): consultations per day stacked by outcome, and spend per doctor.

matplotlib is imported inside ``draw_chart`` only, so the bot that never makes a report
never loads it (tests/reports/test_lazy_import.py). Its object API is used (a ``Figure`` of
its own, the Agg canvas), never pyplot's global state; the one lock keeps two reports'
threads from drawing at once (matplotlib's font cache is not thread-safe). Called in a
worker thread (``asyncio.to_thread``): never on the event loop.

Everything drawn is given already worded and formatted (``ChartInput``, built by
bot/rendering/report.py): no translation or number formatting happens here.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

_DRAW_LOCK = threading.Lock()

# Colours per outcome (colour-blind safe: Okabe–Ito), in bot.reports.figures.OUTCOMES order.
OUTCOME_COLOURS: dict[str, str] = {
    "reached": "#009E73",
    "unsuccessful": "#E69F00",
    "terminated": "#D55E00",
    "in_progress": "#56B4E9",
    "missing": "#999999",
}
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 9.0, 110  # 1100 × 990 px


@dataclass(frozen=True, slots=True)
class DoctorBar:
    label: str  # "Иванова Мария Петровна · RUB"
    value: float  # the bar's length, 0..1 (relative to the largest of its currency)
    text: str  # the value as the user reads it: "12 345,50 ₽"


@dataclass(frozen=True, slots=True)
class ChartInput:
    title: str
    per_day_title: str
    per_doctor_title: str
    no_spend: str  # shown instead of the bars when nothing was spent
    day_labels: list[str]
    # outcome key → (legend label, one count per day)
    series: dict[str, tuple[str, list[int]]]
    doctors: list[DoctorBar]


def draw_chart(chart: ChartInput) -> bytes:
    """The PNG bytes, built in memory (nothing written to disk)."""
    with _DRAW_LOCK:
        return _draw(chart)


def _draw(chart: ChartInput) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas, explicitly: no GUI backend is ever chosen
    top, bottom = fig.subplots(2, 1, height_ratios=(1.1, 1.0))
    fig.suptitle(chart.title, fontsize=13)

    positions = list(range(len(chart.day_labels)))
    base = [0] * len(positions)
    for key, (label, counts) in chart.series.items():
        if not any(counts):
            continue
        top.bar(positions, counts, bottom=base, label=label, color=OUTCOME_COLOURS.get(key))
        base = [b + c for b, c in zip(base, counts, strict=True)]
    top.set_title(chart.per_day_title, fontsize=11, loc="left")
    step = max(1, -(-len(positions) // 16))  # at most ~16 day labels
    top.set_xticks(positions[::step], [chart.day_labels[i] for i in positions[::step]])
    top.set_xlim(-0.6, len(positions) - 0.4)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_ylim(0, max(max(base, default=0), 1) * 1.3)  # room for the legend
    top.grid(axis="y", alpha=0.3)
    if any(base):
        top.legend(loc="upper left", fontsize=9, frameon=False, ncols=3)

    bottom.set_title(chart.per_doctor_title, fontsize=11, loc="left")
    if chart.doctors:
        bars = list(reversed(chart.doctors))  # the largest on top
        ys = list(range(len(bars)))
        bottom.barh(ys, [b.value for b in bars], color="#0072B2")
        bottom.set_yticks(ys, [b.label for b in bars], fontsize=9)
        for y, bar in zip(ys, bars, strict=True):
            bottom.text(bar.value + 0.01, y, bar.text, va="center", fontsize=8)
        bottom.set_xlim(0, 1.25)
        bottom.set_xticks([])
    else:
        bottom.text(0.5, 0.5, chart.no_spend, ha="center", va="center", transform=bottom.transAxes)
        bottom.set_xticks([])
        bottom.set_yticks([])
    for side in ("top", "right"):
        top.spines[side].set_visible(False)
        bottom.spines[side].set_visible(False)

    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
