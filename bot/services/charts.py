"""The /stats picture: new subscribers by week and role, deliveries of the latest campaigns.

Drawn with matplotlib's object API on the Agg backend (`Figure` + `FigureCanvasAgg`, no pyplot
and its global state, so two charts drawn at once in threads don't share a figure), in DejaVu
Sans, which ships with matplotlib and has Cyrillic: named on every text (not through rcParams,
which are global). The picture is made for a phone: 1080 px
wide (Telegram shows a photo across the chat's width, ~400 points on a phone, so 1 point is
about 2.7 px here), 4:5 portrait, with text no smaller than ~11 points on screen.

matplotlib is imported on the first chart, not with the bot: it costs ~0.3 s and ~30 MB that
commands without a chart (and `python -m bot status`) shouldn't pay (see `load`). Rendering
takes 100+ ms of CPU: callers run it off the event loop (`asyncio.to_thread`).
"""

from __future__ import annotations

import gc
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_PX = 1080
HEIGHT_PX = 1350
DPI = 150

# Okabe–Ito: told apart with any colour vision, and on a dim phone screen.
SERIES_COLOURS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#CC79A7",  # pink
    "#56B4E9",  # sky
    "#D55E00",  # vermilion
    "#999999",  # grey: «не указана»
)
# Deliveries in the colours people read them by: delivered green, blocked red, error amber.
SENT = "#2E7D32"
BLOCKED = "#C62828"
FAILED = "#F9A825"
PENDING = "#BDBDBD"
INK = "#222222"
FAINT = "#666666"
FONT = "DejaVu Sans"
BAR_SHARE = 0.64  # of a campaign's row; «sent of total» right-aligned in the rest


def _n(value: int) -> str:
    """«12 345»: thousands apart by a narrow no-break space, as the bot's texts write them."""
    return f"{value:,}".replace(",", "\u202f")


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: tuple[int, ...]  # one per week


@dataclass(frozen=True, slots=True)
class CampaignBar:
    label: str  # «Семинар координаторов · 30.11»
    sent: int
    blocked: int
    failed: int
    pending: int

    @property
    def total(self) -> int:
        return self.sent + self.blocked + self.failed + self.pending


@dataclass(frozen=True, slots=True)
class ChartText:
    """Every word on the picture (from bot/texts.py)."""

    weeks_title: str
    weeks_empty: str
    campaigns_title: str
    campaigns_empty: str
    sent: str
    blocked: str
    failed: str
    pending: str
    of_total: str  # «{sent} из {total}»


@dataclass(frozen=True, slots=True)
class ChartData:
    weeks: tuple[str, ...]  # «03.11», oldest first
    series: tuple[Series, ...]  # one per role, stacked
    campaigns: tuple[CampaignBar, ...]  # newest first
    words: ChartText
    campaign_slots: int = 5  # room kept for this many bars: one campaign is not a giant bar


def _weeks_panel(ax: Axes, data: ChartData) -> None:
    words = data.words
    ax.set_title(
        words.weeks_title, loc="left", fontsize=19, fontweight="bold", color=INK, pad=14,
        fontfamily=FONT,
    )  # fmt: skip
    x = list(range(len(data.weeks)))
    bottoms = [0] * len(x)
    # A role keeps its colour from one week's picture to the next: by its place in the order.
    shown = [(n, s) for n, s in enumerate(data.series) if any(s.values)]
    for n, series in shown:
        ax.bar(
            x,
            series.values,
            bottom=bottoms,
            width=0.72,
            color=SERIES_COLOURS[n % len(SERIES_COLOURS)],
            label=series.label,
            edgecolor="white",
            linewidth=1,
        )
        bottoms = [b + v for b, v in zip(bottoms, series.values, strict=True)]
    peak = max(bottoms, default=0)
    for xi, total in zip(x, bottoms, strict=True):
        if total:
            ax.text(
                xi, total + peak * 0.02, str(total), ha="center", va="bottom",
                fontsize=16, fontweight="bold", color=INK, fontfamily=FONT,
            )  # fmt: skip
    ax.set_xticks(x, data.weeks, fontsize=15, color=INK, fontfamily=FONT)
    ax.tick_params(axis="x", length=0, pad=6)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(0, max(peak * 1.18, 1))
    ax.yaxis.set_visible(False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(FAINT)
    if not shown:
        ax.text(
            0.5, 0.5, words.weeks_empty, transform=ax.transAxes, ha="center", va="center",
            fontsize=17, color=FAINT, fontfamily=FONT,
        )  # fmt: skip
        return
    # Two columns, the longest names in the first (filled first): both fit a phone's width.
    handles, labels = ax.get_legend_handles_labels()
    pairs = sorted(zip(labels, handles, strict=True), key=lambda pair: -len(pair[0]))
    ax.legend(
        [handle for _, handle in pairs],
        [label for label, _ in pairs],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=2,
        frameon=False,
        prop={"family": FONT, "size": 14},
        handlelength=1.0,
        columnspacing=1.0,
        labelcolor=INK,
    )


def _campaigns_panel(ax: Axes, data: ChartData) -> None:
    from matplotlib.patches import Patch

    words = data.words
    ax.set_title(
        words.campaigns_title, loc="left", fontsize=19, fontweight="bold", color=INK, pad=14,
        fontfamily=FONT,
    )  # fmt: skip
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    for side in ax.spines.values():
        side.set_visible(False)
    bars = data.campaigns
    if not bars:
        ax.text(
            0.5, 0.5, words.campaigns_empty, transform=ax.transAxes, ha="center", va="center",
            fontsize=17, color=FAINT, fontfamily=FONT,
        )  # fmt: skip
        return
    # Each campaign: its name on a line of its own, the bar below it (shares of its total,
    # so a digest to thousands and a post to a few read alike), «sent of total» at the right.
    ax.set_xlim(0, 1)
    ax.set_ylim(max(len(bars), data.campaign_slots) * 2 - 0.4, -0.9)
    for n, bar in enumerate(bars):
        y = n * 2 + 0.6
        ax.text(
            0, n * 2 - 0.35, bar.label, fontsize=16, color=INK, va="center", ha="left",
            fontfamily=FONT,
        )  # fmt: skip
        total = bar.total or 1
        left = 0.0
        for value, colour in (
            (bar.sent, SENT),
            (bar.blocked, BLOCKED),
            (bar.failed, FAILED),
            (bar.pending, PENDING),
        ):
            if value:
                ax.barh(y, value / total * BAR_SHARE, left=left, height=0.7, color=colour)
                left += value / total * BAR_SHARE
        ax.text(
            1.0, y, words.of_total.format(sent=_n(bar.sent), total=_n(bar.total)), fontsize=15,
            color=INK, va="center", ha="right", fontweight="bold", fontfamily=FONT,
        )  # fmt: skip
    ax.legend(
        handles=[
            Patch(color=SENT, label=words.sent),
            Patch(color=BLOCKED, label=words.blocked),
            Patch(color=FAILED, label=words.failed),
            Patch(color=PENDING, label=words.pending),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=2,
        frameon=False,
        prop={"family": FONT, "size": 14},
        handlelength=1.2,
        columnspacing=1.2,
        labelcolor=INK,
    )


@cache
def load() -> None:
    """Import matplotlib's drawing classes, once. The ~70 000 long-lived objects the import
    leaves then join those frozen at start-up (bot/heap.py), so the collector's full passes
    don't walk them on every collection from then on."""
    import matplotlib.backends.backend_agg
    import matplotlib.figure
    import matplotlib.patches  # noqa: F401

    gc.freeze()


def stats_chart(data: ChartData) -> bytes:
    """The picture as PNG bytes. Blocking (100+ ms): call it in a thread."""
    load()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    # Fixed places (left, bottom, width, height as shares of the picture), the legends in the
    # gaps under each panel: the same layout whatever the names and the numbers.
    weeks_ax = figure.add_axes((0.05, 0.655, 0.92, 0.285))
    campaigns_ax = figure.add_axes((0.05, 0.115, 0.92, 0.31))
    _weeks_panel(weeks_ax, data)
    _campaigns_panel(campaigns_ax, data)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def week_series(
    weeks: int, counts: dict[tuple[int, str], int], order: Sequence[tuple[str, str]]
) -> tuple[Series, ...]:
    """One series per (code, label) in `order`, counts by week index; roles not in `order`
    (an unset role is "") go to the last one."""
    known = {code for code, _ in order}
    values: dict[str, list[int]] = {code: [0] * weeks for code, _ in order}
    last = order[-1][0]
    for (week, code), n in counts.items():
        if 0 <= week < weeks:
            values[code if code in known else last][week] += n
    return tuple(Series(label, tuple(values[code])) for code, label in order)
