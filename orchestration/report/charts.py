"""The report's figures, drawn with matplotlib as SVG and embedded as data URIs (an <img> keeps each SVG's
internal ids to itself and prints as vectors).

Colours are the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies; every
series also differs by line style, so the figures survive grey-scale printing too. The ~357 municipality
figures share one matplotlib figure per process whose lines are replaced for each municipality: building
a figure costs more than drawing it.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("svg")  # no GUI backend, ever

import matplotlib.ticker as mticker  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

matplotlib.rcParams.update({
    "svg.fonttype": "none",      # text stays text: searchable, smaller, sharp in print
    "svg.hashsalt": "boligsosial",  # stable ids: the same data gives the same file
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "axes.titley": 1.0,          # a fixed title position skips a layout pass per axes (measured ~40 % faster)
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9,
    "axes.titlelocation": "left",
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.formatter.use_locale": False,
    "lines.solid_capstyle": "round",
})

# Okabe & Ito (2008), "Color Universal Design".
BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
SIZE_COLOURS = {"large": BLUE, "medium": ORANGE, "small": GREEN}
SIZE_NAMES = {"large": "Store", "medium": "Mellomstore", "small": "Små"}
STRATEGY_START = 2014


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})  # no timestamp: reproducible files
    return buf.getvalue()


def _number_formatter(unit: str | None) -> mticker.Formatter:
    def fmt(value: float, _pos: int | None = None) -> str:
        if abs(value) >= 1000:
            return f"{value:,.0f}".replace(",", "\u202f")
        if float(value).is_integer():
            return f"{value:.0f}"
        return f"{value:.1f}".replace(".", ",")
    return mticker.FuncFormatter(fmt)


def _mark_strategy_start(ax, label: bool = False) -> None:
    ax.axvline(STRATEGY_START, color="#777777", lw=0.9, ls=(0, (4, 3)), zorder=0,
               label="Strategistart 2014" if label else None)


def _year_axis(ax, first: int, last: int) -> None:
    ax.set_xlim(first - 0.5, last + 0.5)
    ticks = sorted({first, STRATEGY_START, last} | ({2020} if first < 2018 < last - 2 else set()))
    ax.set_xticks([t for t in ticks if first <= t <= last])
    ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%d"))


class MunicipalityChart:
    """Small multiples: one panel per rate indicator, the municipality beside its size class, its KOSTRA
    group and the country. Build once per process, `draw` once per municipality."""

    SERIES = (("value", "Kommunen", BLACK, "-", 2.2), ("size_class_value", "Størrelsesgruppen", ORANGE, "--", 1.5),
              ("kostra_group_value", "KOSTRA-gruppen", BLUE, "-.", 1.5), ("national_value", "Landet", GREEN, ":", 1.9))

    def __init__(self, panels: Sequence[tuple[str, str, str]], first_year: int, last_year: int, columns: int = 3):
        """panels: (indicator_id, title, unit)."""
        self.panels = list(panels)
        rows = max(1, math.ceil(len(self.panels) / columns))
        # inches: legend and the first titles on top, then axes with room for three-line titles between rows
        top, axes_h, gap, bottom = 1.0, 1.45, 0.85, 0.3
        height = top + rows * axes_h + (rows - 1) * gap + bottom
        self.fig = Figure(figsize=(10.5, height))
        axes = self.fig.subplots(rows, columns, squeeze=False)
        self.axes = {}
        self.lines = {}
        self.empty = {}
        for position, (ax, (indicator_id, title, unit)) in enumerate(zip(axes.flat, self.panels)):
            self.lines[indicator_id] = [ax.plot([], [], color=c, ls=ls, lw=lw, label=label)[0]
                                        for _, label, c, ls, lw in self.SERIES]
            _mark_strategy_start(ax, label=not self.axes)
            ax.set_title(_wrap(title, 40) + f"\n({unit})", fontsize=8.5)
            _year_axis(ax, first_year, last_year)
            ax.yaxis.set_major_locator(mticker.MaxNLocator(4))
            ax.yaxis.set_major_formatter(_number_formatter(unit))
            ax.grid(axis="y", color="#dddddd", lw=0.6)
            # grid lines suffice for ticks, and years are labelled once per column: fewer texts to lay out
            ax.tick_params(which="both", bottom=False, left=False,
                           labelbottom=position + columns >= len(self.panels))
            self.empty[indicator_id] = ax.text(0.5, 0.45, "ingen tall for kommunen", transform=ax.transAxes,
                                               ha="center", fontsize=8, color="#555555", visible=False)
            self.axes[indicator_id] = ax
        for ax in list(axes.flat)[len(self.panels):]:
            ax.set_visible(False)
        handles, labels = next(iter(self.axes.values())).get_legend_handles_labels()
        self.fig.legend(handles, labels, loc="upper center", ncol=5, bbox_to_anchor=(0.5, 1.0))
        self.fig.subplots_adjust(left=0.06, right=0.99, top=1 - top / height, bottom=bottom / height,
                                 hspace=gap / axes_h, wspace=0.25)

    def draw(self, series: dict[str, dict[str, list]]) -> str:
        """series: indicator_id → {"year": [...], "value": [...], "size_class_value": [...], ...}."""
        for indicator_id, ax in self.axes.items():
            data = series.get(indicator_id) or {}
            years = data.get("year", [])
            finite = []
            for line, (key, *_rest) in zip(self.lines[indicator_id], self.SERIES):
                values = data.get(key, [])
                line.set_data(years, values)
                finite += [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
            own = [v for v in data.get("value", []) if v is not None and not math.isnan(v)]
            self.empty[indicator_id].set_visible(not own)
            if finite:
                low, high = min(finite), max(finite)
                low = 0 if low >= 0 and low < (high - low) * 1.5 else low  # start at zero unless it hides the change
                pad = (high - low) * 0.08 or max(abs(high) * 0.1, 1)
                ax.set_ylim(low - (pad if low else 0), high + pad)
            else:
                ax.set_ylim(0, 1)
        return _svg(self.fig)


def group_series_chart(title: str, unit: str, series: dict[str, tuple[list[int], list[float]]],
                       national: tuple[list[int], list[float]] | None, first_year: int, last_year: int) -> str:
    """Figures 3.x: one panel per size class (own scale, so small municipalities are not a flat line under
    the large ones), programme members solid, the others dashed; the country in black when it is a rate."""
    fig = Figure(figsize=(9.6, 2.9))
    axes = fig.subplots(1, 3)
    for ax, size in zip(axes, ("large", "medium", "small")):
        for membership, colour, ls, word in (("in", BLUE, "-", "Med i programmet"),
                                              ("out", ORANGE, "--", "Ikke med")):
            years, values = series.get(f"{size}_{membership}", ([], []))
            ax.plot(years, values, color=colour, ls=ls, lw=2.0 if membership == "in" else 1.7, label=word)
        if national and national[0]:
            ax.plot(*national, color=BLACK, lw=1.4, ls=":", label="Landet")
        _mark_strategy_start(ax, label=True)
        _year_axis(ax, first_year, last_year)
        ax.yaxis.set_major_locator(mticker.MaxNLocator(4))
        ax.yaxis.set_major_formatter(_number_formatter(unit))
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#dddddd", lw=0.6)
        ax.tick_params(which="both", bottom=False, left=False)
        ax.set_title(f"{SIZE_NAMES[size]} kommuner", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=4, bbox_to_anchor=(0.5, 1.0))
    fig.text(0.005, 0.5, unit, rotation=90, va="center", fontsize=8)
    fig.subplots_adjust(left=0.06, right=0.99, top=0.78, bottom=0.1, wspace=0.22)
    return _svg(fig)


def share_bars_chart(rows: Sequence[tuple[str, float | None]], population_share: float | None,
                     population_80_share: float | None) -> str:
    """Figure 5.1: the programme municipalities' share of the country per indicator, beside their share of
    the population (the line) and of the inhabitants over 80."""
    labels = [_wrap(name, 48) for name, _ in rows]
    values = [v if v is not None and not math.isnan(v) else 0 for _, v in rows]
    fig = Figure(figsize=(7.2, 0.45 + 0.34 * len(rows)))
    ax = fig.add_subplot()
    positions = list(range(len(rows)))[::-1]
    ax.barh(positions, values, color=BLUE, height=0.62)
    for pos, (_, v) in zip(positions, rows):
        ax.text((v or 0) + 1, pos, "–" if v is None or math.isnan(v) else f"{v:.0f} %", va="center", fontsize=8)
    if population_share is not None:
        ax.axvline(population_share, color=VERMILLION, lw=1.6, ls="--",
                   label=f"Andel av befolkningen ({population_share:.0f} %)")
    if population_80_share is not None:
        ax.axvline(population_80_share, color=BLACK, lw=1.2, ls=":",
                   label=f"Andel av innbyggere over 80 år ({population_80_share:.0f} %)")
    ax.set_yticks(positions)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, 108)
    ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%d %%"))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=1)
    fig.subplots_adjust(left=0.45, right=0.97, top=1 - 0.55 / (0.45 + 0.34 * len(rows)) - 0.02,
                        bottom=0.25 / (0.45 + 0.34 * len(rows)) + 0.02)
    return _svg(fig)


def share_lines_chart(series: dict[str, tuple[list[int], list[float]]], population: tuple[list[int], list[float]]
                      | None, first_year: int, last_year: int) -> str:
    """Figure 5.2: the programme municipalities' share of Husbanken's instruments over the years."""
    # no yellow: too faint as a line on white
    palette = [(BLUE, "-"), (ORANGE, "--"), (GREEN, "-."), (VERMILLION, (0, (1, 1.5))), (PURPLE, "-"),
               (SKY, "--"), (BLUE, (0, (1, 1.5))), (ORANGE, "-")]
    fig = Figure(figsize=(8.6, 3.6))
    ax = fig.add_subplot()
    for (name, (years, values)), (colour, ls) in zip(series.items(), palette):
        ax.plot(years, values, color=colour, ls=ls, lw=1.8, label=_wrap(name, 38))
    if population and population[0]:
        ax.plot(*population, color=BLACK, lw=2.4, label="Andel av befolkningen")
    _mark_strategy_start(ax, label=True)
    _year_axis(ax, first_year, last_year)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%d %%"))
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.subplots_adjust(left=0.07, right=0.6, top=0.95, bottom=0.1)
    return _svg(fig)


def _wrap(text: str, width: int) -> str:
    words, lines, line = str(text).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines[:3])
