"""Explorers for modules 3 and 4: choose a baseline period, and poke a run chart to see its rules react.

Both are built from explicit `observe` callbacks that redraw an `Output` (the chart) and an
`HTML` (the numbers), and both draw their initial state at once, so they also render when a
notebook is executed headless (nbclient) and in a static HTML export.
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from qicourse.charts import plot_qic, qic

RULE_SETS = {
    "anhoej": "Anhøj: longest run above log2(n)+3, or too few crossings",
    "ihi": "IHI: shift of 6+, trend of 5+, too few or too many runs",
}


def _show(fig, out: w.Output, alt: str) -> None:
    """Put the figure into `out` as a PNG, replacing what was there, and close it.

    Setting `outputs` directly (rather than `with out: display(fig)`) works the same in a live
    kernel, under nbclient and in plain Python, so the explorers can be tested without a kernel.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    out.outputs = ({"output_type": "display_data", "metadata": {},
                    "data": {"image/png": png, "text/plain": f"<figure: {alt}>"}},)


class _Explorer:
    """Holds the controls, the chart `Output` and the summary `HTML`; displays as its `widget`."""

    widget: w.Widget

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class RunChartExplorer(_Explorer):
    """A run chart whose baseline, length and rule set the learner can change.

    - `n_points`: how many points have been collected so far (add points one at a time and see
      when a signal first appears);
    - `intervention`: the point where the change started; the median is calculated from the
      points before it (the baseline) and extended, so later points are judged against it;
    - `rules`: the rule set, IHI (Perla, Provost & Murray 2011) or Anhøj (Anhøj & Olesen 2014).
    """

    def __init__(self, y, x=None, *, title: str = "Run chart", ylab: str = "value", xlab: str = "time",
                 intervention: int | None = None, rules: str = "anhoej", min_points: int = 10,
                 direction: str | None = None):
        values = pd.Series(y, dtype=float).reset_index(drop=True)
        if values.isna().any():
            raise ValueError("The run chart explorer needs a value for every period (no missing values).")
        if len(values) < min_points:
            raise ValueError(f"Need at least {min_points} points for a run chart; got {len(values)}.")
        if rules not in RULE_SETS:
            raise ValueError(f"rules must be one of {', '.join(RULE_SETS)}, not {rules!r}.")
        self.y = values
        self.x = pd.Series(x).reset_index(drop=True) if x is not None else pd.Series(np.arange(1, len(values) + 1))
        if len(self.x) != len(self.y):
            raise ValueError("x and y must have the same length.")
        self.title, self.ylab, self.xlab, self.direction = title, ylab, xlab, direction
        n = len(values)
        start = intervention if intervention is not None else n // 2
        if not 0 <= start <= n:
            raise ValueError(f"intervention must be a point number between 0 and {n}.")
        self.n_points = w.IntSlider(value=n, min=min_points, max=n, step=1, description="Points so far",
                                    continuous_update=False, style={"description_width": "initial"})
        self.intervention = w.IntSlider(value=start, min=0, max=n, step=1,
                                        description="Change started after point",
                                        continuous_update=False, style={"description_width": "initial"},
                                        layout=w.Layout(width="420px"))
        self.rules = w.ToggleButtons(options=[("Anhøj", "anhoej"), ("IHI", "ihi")], value=rules,
                                     description="Rules", tooltips=list(RULE_SETS.values()))
        self.summary = w.HTML()
        self.plot = w.Output()
        for control in (self.n_points, self.intervention, self.rules):
            control.observe(self._update, names="value")
        self.widget = w.VBox([w.HBox([self.n_points, self.intervention]), self.rules, self.summary, self.plot])
        self.result = None
        self._update()

    def analyse(self):
        """The `QicResult` for the current settings (median frozen on the baseline when there is one)."""
        n = self.n_points.value
        k = min(self.intervention.value, n)
        freeze = k if k >= 2 else None  # a median needs a baseline; with none, use every point
        return qic(self.y[:n].to_numpy(), x=self.x[:n].to_numpy(), chart="run", rules=self.rules.value,
                   freeze=freeze, direction=self.direction)

    def _update(self, _change=None) -> None:
        self.result = res = self.analyse()
        pts = res.points
        median = float(pts["cl"].iloc[-1])
        k = min(self.intervention.value, self.n_points.value)
        fired = sorted({res.rule_label(r) for r in pts.loc[pts["signal"].astype(bool), "rule"].astype(str) if r})
        s = res.summary
        if self.rules.value == "ihi" and s["runs"] < s["runs_min"]:
            fired.append("Too few runs (IHI)")
        if self.rules.value == "ihi" and s["runs"] > s["runs_max"]:
            fired.append("Too many runs (IHI)")
        if self.rules.value == "anhoej" and s["crossings"] < s["crossings_min"]:
            fired.append("Too few crossings (Anhøj)")
        if self.rules.value == "ihi":
            runs_line = (f"<b>Runs</b>: {s['runs']} (signal if fewer than {s['runs_min']} "
                         f"or more than {s['runs_max']}); <b>longest run</b>: {s['longest_run']} "
                         "(a shift is 6 or more)")
        else:
            runs_line = (f"<b>Longest run</b>: {s['longest_run']} (signal if more than {s['longest_run_max']}); "
                         f"<b>crossings</b>: {s['crossings']} (signal if fewer than {s['crossings_min']})")
        lines = [
            f"<b>Median</b> ({'from the first ' + str(k) + ' points' if k >= 2 else 'from all points'}): "
            f"{median:.3g} {html.escape(self.ylab)}",
            f"<b>Useful points</b> (not on the median): {s['n_useful']}",
            runs_line,
            "<b>Signal</b>: " + (f"<span style='color:#c00'>yes: {html.escape(', '.join(fired))}</span>" if fired
                                 else "none: the variation looks random (common cause)"),
            f"<i>{html.escape(RULE_SETS[self.rules.value])}</i>",
        ]
        self.summary.value = "<div class='qic-summary'>" + "<br>".join(lines) + "</div>"
        fig, ax = plt.subplots(figsize=(10, 4.6))
        plot_qic(res, ax=ax, title=self.title, ylab=self.ylab, xlab=self.xlab)
        if 0 < k < self.n_points.value:
            xk = (pts["x"].iloc[k - 1], pts["x"].iloc[k])
            mid = xk[0] + (xk[1] - xk[0]) / 2
            ax.axvline(mid, color="#444444", linestyle=":", linewidth=1.2)
            ax.annotate(" change started", (mid, 0.97), xycoords=("data", "axes fraction"),
                        ha="left", va="top", fontsize=8)
        if pd.api.types.is_datetime64_any_dtype(self.x):
            fig.autofmt_xdate()
        legend = ax.get_legend()
        if legend is not None:  # legend under the chart, so the chart keeps the full width
            ax.legend(legend.legend_handles, [t.get_text() for t in legend.get_texts()], loc="upper center",
                      bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=8, frameon=False)
        fig.tight_layout()
        _show(fig, self.plot, self.title)


def run_chart_explorer(y, x=None, **kwargs) -> RunChartExplorer:
    """Build a `RunChartExplorer` (see its docstring); display it by leaving it last in a cell."""
    return RunChartExplorer(y, x, **kwargs)


class BaselineChooser(_Explorer):
    """Pick the baseline weeks and a relative improvement; see the baseline median and the target move.

    Teaches two aim-setting errors: a baseline taken from a few unusual weeks, and a target
    with no baseline at all. The baseline median is the median of every *patient* in the chosen
    weeks, not the median of weekly medians.
    """

    def __init__(self, times, values, *, unit: str = "minutes", label: str = "time to antibiotics",
                 start_week: int = 0, end_week: int | None = None, improvement: float = 0.25,
                 lower_is_better: bool = True):
        t = pd.to_datetime(pd.Series(times)).reset_index(drop=True)
        v = pd.Series(values, dtype=float).reset_index(drop=True)
        if len(t) != len(v) or len(v) == 0:
            raise ValueError("times and values must be non-empty and of the same length.")
        keep = v.notna() & t.notna()
        self.data = pd.DataFrame({"week": t[keep].dt.to_period("W-SUN").dt.start_time, "value": v[keep]})
        self.weeks = sorted(self.data["week"].unique())
        if len(self.weeks) < 2:
            raise ValueError("Need data from at least two weeks to choose a baseline.")
        self.weekly = self.data.groupby("week")["value"].median()
        self.unit, self.label, self.lower_is_better = unit, label, lower_is_better
        labels = [pd.Timestamp(wk).strftime("%d %b %Y") for wk in self.weeks]
        end = len(self.weeks) - 1 if end_week is None else end_week
        self.period = w.SelectionRangeSlider(options=list(zip(labels, range(len(labels)))),
                                             index=(start_week, end), description="Baseline weeks",
                                             continuous_update=False, style={"description_width": "initial"},
                                             layout=w.Layout(width="640px"))
        self.improvement = w.IntSlider(value=round(improvement * 100), min=5, max=75, step=5,
                                       description="Improvement %", continuous_update=False,
                                       style={"description_width": "initial"})
        self.summary = w.HTML()
        self.plot = w.Output()
        self.period.observe(self._update, names="value")
        self.improvement.observe(self._update, names="value")
        self.widget = w.VBox([self.period, self.improvement, self.summary, self.plot])
        self._update()

    def baseline(self) -> tuple[float, int, int]:
        """(median of every value in the chosen weeks, number of values, number of weeks)."""
        i, j = self.period.index
        chosen = self.weeks[i : j + 1]
        vals = self.data.loc[self.data["week"].isin(chosen), "value"]
        return float(vals.median()), int(len(vals)), len(chosen)

    def target(self) -> float:
        base, _, _ = self.baseline()
        f = self.improvement.value / 100
        return base * (1 - f) if self.lower_is_better else base * (1 + f)

    def _update(self, _change=None) -> None:
        base, n, n_weeks = self.baseline()
        target = self.target()
        warn = ""
        if n_weeks < 4 or n < 20:
            warn = ("<br><span style='color:#c00'>Few weeks or patients: a baseline this short can sit "
                    "on one unusually good or bad spell. Aim for 12 or more points.</span>")
        self.summary.value = (
            f"<div class='baseline-summary'><b>Baseline</b>: median {self.label} {base:.0f} {self.unit} "
            f"({n} patients over {n_weeks} week{'s' if n_weeks != 1 else ''})<br>"
            f"<b>Target</b> ({self.improvement.value}% {'reduction' if self.lower_is_better else 'increase'}): "
            f"{target:.0f} {self.unit}{warn}</div>"
        )
        i, j = self.period.index
        fig, ax = plt.subplots(figsize=(9, 3.6))
        ax.plot(self.weekly.index, self.weekly.to_numpy(), marker="o", color="#4a4a4a", linewidth=1,
                markersize=4, label=f"weekly median {self.label}")
        ax.axvspan(self.weeks[i], self.weeks[j] + pd.Timedelta(days=6), color="#cfe2f3", alpha=0.6,
                   label="baseline period")
        ax.axhline(base, color="#1f5fa8", linewidth=1.5, label=f"baseline median ({base:.0f})")
        ax.axhline(target, color="#1a9641", linestyle="--", linewidth=1.5, label=f"target ({target:.0f})")
        ax.set_xlabel("week starting (Monday)")
        ax.set_ylabel(f"{self.label} ({self.unit})")
        ax.set_title(f"Weekly median {self.label}, with the baseline you chose")
        ax.legend(fontsize=8, loc="upper right")
        fig.autofmt_xdate()
        fig.tight_layout()
        _show(fig, self.plot, "weekly medians with the chosen baseline")


def baseline_chooser(times, values, **kwargs) -> BaselineChooser:
    """Build a `BaselineChooser` (see its docstring); display it by leaving it last in a cell."""
    return BaselineChooser(times, values, **kwargs)
