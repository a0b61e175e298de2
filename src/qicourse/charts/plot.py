"""Matplotlib drawing of a :class:`~qicourse.charts.QicResult`. Reads the result, never changes it.

Readable in greyscale: every signal rule has its own marker shape as well as its own colour
(Okabe & Ito's colour-blind-safe palette). ``style="mdc"`` uses Making Data Count's colours
(NHSRplotthedots ``ptd_spc_colours``) and adds the variation and assurance icons as text badges.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .core import QicResult
from .rules import RULE_LABELS

__all__ = ["MDC_COLOURS", "OKABE_ITO", "plot_qic"]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

MDC_COLOURS = {
    "improvement": "#00b0f0",
    "concern": "#e46c0a",
    "neutral_high": "#490092",
    "neutral_low": "#490092",
    "common_cause": "#a6a6a6",
}

# rule -> (colour, marker): distinct shapes so the chart still reads in greyscale
_RULE_STYLE = {
    "outside_limits": (OKABE_ITO["vermillion"], "s"),
    "anhoej_long_run": (OKABE_ITO["orange"], "D"),
    "ihi_shift": (OKABE_ITO["orange"], "D"),
    "ihi_trend": (OKABE_ITO["blue"], "^"),
    "mdc_trend": (OKABE_ITO["blue"], "^"),
    "mdc_two_of_three": (OKABE_ITO["purple"], "P"),
    "mdc_shift": (OKABE_ITO["orange"], "D"),
}
_MDC_MARKER = {"improvement": "^", "concern": "v", "neutral_high": "D", "neutral_low": "D", "common_cause": "o"}
_ICON_TEXT = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause: improvement (high)",
    "improvement_low": "Special cause: improvement (low)",
    "concern_high": "Special cause: concern (high)",
    "concern_low": "Special cause: concern (low)",
    "neutral_high": "Special cause: neutral (high)",
    "neutral_low": "Special cause: neutral (low)",
}
_ASSURANCE_TEXT = {
    "consistent_pass": ("P", "Target consistently met"),
    "consistent_fail": ("F", "Target consistently missed"),
    "inconsistent": ("?", "Target met only some of the time"),
}


def _x_values(points: pd.DataFrame):
    x = points["x"]
    if pd.api.types.is_datetime64_any_dtype(x):
        return pd.to_datetime(x).to_numpy(), True
    if pd.api.types.is_numeric_dtype(x):
        return x.to_numpy(), False
    # labels: plot at positions, label the ticks
    return np.arange(len(x)), False


def plot_qic(
    result: QicResult,
    ax=None,
    title: str | None = None,
    ylab: str | None = None,
    xlab: str | None = None,
    style: str = "default",
    legend: bool = True,
    value_labels: bool = True,
):
    """Draw the chart on ``ax`` (a new figure if None) and return the Axes.

    Data points and line, centre line (dashed when the phase's runs test fires, as qicharts2
    does), stepped limits, the target, phase separators, and signals marked by rule (default
    style) or by improvement/concern (``style="mdc"``), named in the legend. With
    ``value_labels`` the last centre and limit values are written at the right-hand end.
    """
    if style not in ("default", "mdc"):
        raise ValueError("style must be 'default' or 'mdc'")
    if not isinstance(result, QicResult):
        raise ValueError("plot_qic needs the result of qic()")
    pts = result.points
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")  # room for the outside legend
    xv, is_date = _x_values(pts)
    handles: dict[str, Line2D] = {}

    phase_info = {p["phase"]: p for p in result.phases}
    centre_name = "Median" if result.chart in ("run", "g") else "Mean"
    for ph in pd.unique(pts["phase"]):
        sel = (pts["phase"] == ph).to_numpy()
        xs = xv[sel]
        d = pts[sel]
        ax.plot(xs, d["y"], color="#4d4d4d", lw=1, marker="o", ms=3.5, zorder=2)
        if d["cl"].notna().any():
            runs_rules = phase_info.get(int(ph), {}).get("runs_rules", [])
            dashed = bool(runs_rules)
            ax.step(xs, d["cl"], where="mid", color="#1a1a1a", lw=1.6, ls="--" if dashed else "-", zorder=1)
            if dashed:
                label = f"{centre_name}, runs signal: " + "; ".join(RULE_LABELS[r] for r in runs_rules)
            else:
                label = centre_name
            handles.setdefault(label, Line2D([], [], color="#1a1a1a", lw=1.6, ls="--" if dashed else "-"))
        for col in ("ucl", "lcl"):
            if d[col].notna().any():
                ax.step(xs, d[col], where="mid", color="#7f7f7f", lw=1.2, ls=(0, (4, 2)), zorder=1)
                handles.setdefault("Control limits", Line2D([], [], color="#7f7f7f", lw=1.2, ls=(0, (4, 2))))
        if d["target"].notna().any():
            ax.plot(xs, d["target"], color=OKABE_ITO["green"], lw=1.2, ls=":", zorder=1)
            handles.setdefault("Target", Line2D([], [], color=OKABE_ITO["green"], lw=1.2, ls=":"))
        exc = d["excluded"].to_numpy()
        if exc.any():
            ax.scatter(xs[exc], d["y"][exc], s=70, facecolors="white", edgecolors="black", zorder=3)
            handles.setdefault(
                "Excluded from limits",
                Line2D([], [], ls="", marker="o", mfc="white", mec="black", ms=7),
            )

    sig = pts["signal"].to_numpy()
    if style == "default":
        for rule, (colour, marker) in _RULE_STYLE.items():
            m = sig & (pts["rule"] == rule).to_numpy()
            if m.any():
                ax.scatter(xv[m], pts["y"][m], s=55, color=colour, marker=marker, edgecolors="black",
                           linewidths=0.6, zorder=4)
                handles[RULE_LABELS[rule]] = Line2D([], [], ls="", marker=marker, color=colour, mec="black", ms=7)
    else:
        for var, colour in MDC_COLOURS.items():
            m = (pts["variation"] == var).to_numpy() & ~pts["skipped"].to_numpy()
            if m.any():
                ax.scatter(xv[m], pts["y"][m], s=45 if var != "common_cause" else 20, color=colour,
                           marker=_MDC_MARKER[var], zorder=4)
                if var != "common_cause":
                    label = {"improvement": "Special cause: improvement", "concern": "Special cause: concern"}.get(
                        var, "Special cause: neutral"
                    )
                    handles[label] = Line2D([], [], ls="", marker=_MDC_MARKER[var], color=colour, ms=7)
        _draw_icons(ax, result)

    if value_labels:
        _label_last_values(ax, pts, xv)
    if (pts["phase"] > 1).any():
        starts = pts.index[pts["phase"].diff().fillna(0) > 0]
        for i in starts:
            xb = xv[i - 1] + (xv[i] - xv[i - 1]) / 2
            ax.axvline(xb, color="#555555", lw=1, ls=(0, (1, 2)), zorder=0)
        handles["Phase change"] = Line2D([], [], color="#555555", lw=1, ls=(0, (1, 2)))

    if is_date:
        loc = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    elif not pd.api.types.is_numeric_dtype(pts["x"]):
        step = max(1, len(pts) // 12)
        ax.set_xticks(xv[::step])
        ax.set_xticklabels([str(v) for v in pts["x"].to_numpy()[::step]], rotation=45, ha="right")
    if title is not None:  # in MDC style the title goes above the icon badges
        ax.set_title(title, pad=22 if style == "mdc" else plt.rcParams["axes.titlepad"])
    if ylab is not None:
        ax.set_ylabel(ylab)
    if xlab is not None:
        ax.set_xlabel(xlab)
    if legend and handles:
        ax.legend(handles.values(), handles.keys(), fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
                  frameon=False)
    ax.grid(axis="y", color="#e6e6e6", lw=0.6)
    ax.set_axisbelow(True)
    return ax


def _label_last_values(ax, pts: pd.DataFrame, xv) -> None:
    """Write the last phase's final centre and limit values just above the line ends."""
    valid = pts.index[~pts["skipped"].to_numpy()]
    if len(valid) == 0:
        return
    last = valid[-1]
    for col, name in (("cl", "CL"), ("ucl", "UCL"), ("lcl", "LCL")):
        v = pts.at[last, col]
        if pd.notna(v):
            ax.annotate(f"{name} {v:.3g}", (xv[last], v), xytext=(0, 2), textcoords="offset points",
                        fontsize=7, ha="right", va="bottom", color="#333333")


def _draw_icons(ax, result: QicResult) -> None:
    """MDC variation and assurance icons, drawn as small coloured text badges above the plot."""
    icon = result.summary.get("variation_icon", "common_cause")
    colour = MDC_COLOURS["common_cause"]
    for key, c in (("improvement", MDC_COLOURS["improvement"]), ("concern", MDC_COLOURS["concern"]),
                   ("neutral", MDC_COLOURS["neutral_high"])):
        if icon.startswith(key):
            colour = c
    letter = "H" if icon.endswith("high") else "L" if icon.endswith("low") else "~"
    ax.text(0.99, 1.02, f"({letter}) {_ICON_TEXT.get(icon, icon)}", transform=ax.transAxes, ha="right",
            va="bottom", fontsize=8, color="white", bbox={"boxstyle": "round", "fc": colour, "ec": "none"})
    assurance = result.summary.get("assurance")
    if assurance in _ASSURANCE_TEXT:
        letter, text = _ASSURANCE_TEXT[assurance]
        fc = {"P": MDC_COLOURS["improvement"], "F": MDC_COLOURS["concern"]}.get(letter, MDC_COLOURS["common_cause"])
        ax.text(0.01, 1.02, f"({letter}) {text}", transform=ax.transAxes, ha="left", va="bottom", fontsize=8,
                color="white", bbox={"boxstyle": "round", "fc": fc, "ec": "none"})
