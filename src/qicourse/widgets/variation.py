"""Explorers for modules 5-7: control-chart baselines and phases, regression to the mean, and
stratification.

Each function returns an ipywidgets box whose output is drawn once at build time, so the widget
shows a sensible initial state even when the notebook runs headless (nbclient).
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from qicourse.charts import plot_qic, qic
from qicourse.tools.evaluation import expected_rtm_effect, simulate_regression_to_mean, stratify
from qicourse.tools.pdsa import ALLOWED_DECISIONS, classify_result


def _redraw(out: widgets.Output, draw) -> None:
    out.clear_output(wait=True)
    with out:
        fig, ax = plt.subplots(figsize=(9, 4))
        text = draw(ax)
        fig.tight_layout()
        plt.show()
        if text:
            display(widgets.HTML(text))


def spc_explorer(
    y,
    n=None,
    x=None,
    chart: str = "i",
    multiply: float = 1,
    ylab: str = "",
    xlab: str = "",
    title: str = "",
    direction: str | None = None,
    target: float | None = None,
    freeze: int | None = None,
    phase_start: int | None = None,
) -> widgets.VBox:
    """Control chart whose baseline (freeze) and phase break the learner chooses.

    Teaches when to recalculate limits: a baseline that includes the change widens the limits
    and hides the signal; a phase that starts at the change shows the new process.
    """
    y = list(y)
    total = len(y)
    freeze_box = widgets.IntSlider(
        value=freeze or total, min=2, max=total, description="Baseline pts",
        continuous_update=False, style={"description_width": "initial"},
    )
    phase_box = widgets.IntSlider(
        value=phase_start or 0, min=0, max=total - 2, description="New phase at (0 = none)",
        continuous_update=False, style={"description_width": "initial"},
        layout=widgets.Layout(width="420px"),
    )
    out = widgets.Output()

    def draw(ax):
        part = [phase_box.value] if phase_box.value >= 2 else None
        fz = freeze_box.value if freeze_box.value < total else None
        if part and fz and fz > part[0]:
            fz = None  # a baseline cannot run past the start of the next phase
        res = qic(y, n=n, x=x, chart=chart, freeze=fz, part=part, multiply=multiply,
                  direction=direction, target=target)
        plot_qic(res, ax=ax, title=title, ylab=ylab, xlab=xlab)
        lines = []
        for i, ph in enumerate(res.phases, start=1):
            lines.append(
                f"Phase {i}: centre {ph.get('cl', float('nan')):.3g}; "
                f"{ph.get('n_signals', 0)} point(s) with a signal"
            )
        if fz:
            lines.append(f"Limits frozen on the first {fz} points and extended forward.")
        return "<br>".join(lines)

    def update(_=None):
        _redraw(out, draw)

    freeze_box.observe(update, names="value")
    phase_box.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([freeze_box, phase_box]), out])


def rtm_explorer(seed: int = 3) -> widgets.VBox:
    """Regression to the mean: pick the 'worst' wards on one measurement and remeasure with no
    intervention at all. The larger the noise and the more extreme the selection, the bigger
    the fake improvement.
    """
    noise = widgets.FloatSlider(value=2.0, min=0.0, max=4.0, step=0.5,
                                description="Month-to-month noise (SD)",
                                style={"description_width": "initial"}, continuous_update=False)
    share = widgets.FloatSlider(value=0.2, min=0.05, max=1.0, step=0.05,
                                description="Share picked as 'worst'",
                                style={"description_width": "initial"}, continuous_update=False)
    out = widgets.Output()

    def draw(ax):
        sim = simulate_regression_to_mean(n_units=150, mean=10, between_sd=2,
                                          within_sd=noise.value, select_top=share.value, seed=seed)
        sel = sim.selected
        ax.scatter(sim.first[~sel], sim.second[~sel], s=12, color="#a6a6a6", label="not picked")
        ax.scatter(sim.first[sel], sim.second[sel], s=16, color="#e46c0a", label="picked as worst")
        lo = float(min(sim.first.min(), sim.second.min())) - 1
        hi = float(max(sim.first.max(), sim.second.max())) + 1
        ax.plot([lo, hi], [lo, hi], color="#1a1a1a", lw=1, ls="--", label="no change")
        ax.set_xlabel("Falls per 1,000 occupied bed days, first month")
        ax.set_ylabel("Falls per 1,000 occupied bed days, next month")
        ax.set_title("150 wards measured twice; nothing was changed in between")
        ax.legend(loc="upper left", fontsize=8)
        expected = expected_rtm_effect(10, 2, noise.value, sim.cutoff)
        return (f"Picked wards: mean {sim.selected_before:.1f} then {sim.selected_after:.1f} "
                f"(an apparent fall of <b>{sim.apparent_improvement:.1f}</b>, expected "
                f"{expected:.1f} from Barnett et al. 2005). All wards: {sim.everyone_before:.1f} "
                f"then {sim.everyone_after:.1f}.")

    def update(_=None):
        _redraw(out, draw)

    noise.observe(update, names="value")
    share.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([noise, share]), out])


def stratification_chooser(
    df: pd.DataFrame,
    value: str,
    by_options: list[str],
    period: str | None = None,
    ylab: str = "",
    stat: str = "median",
) -> widgets.VBox:
    """Pick a column to stratify `value` by; see the statistic per group (and per period).

    A single overall figure hides which groups are left behind: this makes the gap visible.
    """
    if not by_options:
        raise ValueError("by_options must list at least one column to stratify by.")
    choose = widgets.Dropdown(options=by_options, value=by_options[0], description="Stratify by")
    out = widgets.Output()

    def draw(ax):
        keys = [choose.value] + ([period] if period else [])
        table = stratify(df, keys, value, stat)[stat]
        if period:
            table = table.unstack(period)
            table.plot.bar(ax=ax, rot=0)
            ax.legend(title=period, fontsize=8)
        else:
            table.plot.bar(ax=ax, rot=0, color="#005eb8")
        ax.set_xlabel(choose.value)
        ax.set_ylabel(ylab or f"{stat} {value}")
        ax.set_title(f"{stat.capitalize()} {value} by {choose.value}")
        for label in ax.get_xticklabels():
            label.set_fontsize(8)
        if not period:
            return None
        t = table.dropna()
        if t.empty:
            return None
        spread = (t.max() - t.min()).round(1)
        return "Gap between highest and lowest group: " + "; ".join(
            f"{k}: {v}" for k, v in spread.items())

    choose.observe(lambda _: _redraw(out, draw), names="value")
    _redraw(out, draw)
    return widgets.VBox([choose, out])


def limits_width_demo(p: float = 0.9, sizes=(5, 10, 20, 40, 80)) -> pd.DataFrame:
    """Table of 3-sigma p-chart limits for one centre line at several subgroup sizes.

    Shows why p-chart limits vary with the denominator: the standard error sqrt(p(1-p)/n).
    """
    if not 0 < p < 1:
        raise ValueError("p must be a proportion strictly between 0 and 1.")
    n = np.asarray(sizes, dtype=float)
    if (n <= 0).any():
        raise ValueError("subgroup sizes must be positive.")
    se = np.sqrt(p * (1 - p) / n)
    return pd.DataFrame({
        "subgroup size": n.astype(int),
        "lower limit": np.clip(p - 3 * se, 0, 1),
        "upper limit": np.clip(p + 3 * se, 0, 1),
    })


def pdsa_study_explorer(
    weekly: pd.Series,
    cycles: list[dict],
    direction: str = "decrease",
    ylab: str = "",
    min_change: float = 10.0,
) -> widgets.VBox:
    """Study one PDSA cycle: compare the weeks of the cycle with the weeks before it, and see
    which decisions (adopt/adapt/abandon) the data support for the smallest change that matters.

    `weekly` is one value per week (indexed by week start); `cycles` are dicts with at least
    `date` and `title`, in order. Teaches that Act follows Study, and that "no change" depends on
    agreeing beforehand how big a change would matter.
    """
    if not cycles:
        raise ValueError("cycles must list at least one PDSA cycle.")
    weekly = pd.Series(weekly).sort_index()
    starts = [pd.Timestamp(c["date"]) for c in cycles]
    bounds = [weekly.index.min()] + starts + [weekly.index.max() + pd.Timedelta(days=1)]
    choose = widgets.Dropdown(
        options=[(f"{i + 1}: {c['title']}", i) for i, c in enumerate(cycles)], value=0,
        description="Cycle")
    threshold = widgets.FloatSlider(value=min_change, min=0, max=30, step=1,
                                    description="Smallest change that matters",
                                    style={"description_width": "initial"},
                                    continuous_update=False)
    out = widgets.Output()

    def draw(ax):
        i = choose.value
        before = weekly[(weekly.index >= bounds[i]) & (weekly.index < bounds[i + 1])]
        during = weekly[(weekly.index >= bounds[i + 1]) & (weekly.index < bounds[i + 2])]
        ax.plot(weekly.index, weekly.to_numpy(), color="#a6a6a6", marker="o", ms=3, lw=1)
        ax.plot(before.index, before.to_numpy(), color="#4d4d4d", marker="o", ms=3, lw=1)
        ax.plot(during.index, during.to_numpy(), color="#005eb8", marker="o", ms=4, lw=1.2)
        b_med, d_med = float(before.median()), float(during.median())
        ax.hlines(b_med, before.index.min(), before.index.max(), color="#4d4d4d", lw=2,
                  label=f"before: median {b_med:.0f}")
        ax.hlines(d_med, during.index.min(), during.index.max(), color="#005eb8", lw=2,
                  label=f"during cycle {i + 1}: median {d_med:.0f}")
        for s in starts:
            ax.axvline(s, color="#999999", lw=0.8, ls=":")
        ax.set_xlabel("Week starting")
        ax.set_ylabel(ylab or "Weekly value")
        ax.set_title(f"Study: cycle {i + 1} ({cycles[i]['title']}) against the weeks before it")
        ax.legend(fontsize=8, loc="upper right")
        verdict = classify_result(b_med, d_med, None, direction, threshold.value)
        allowed = " or ".join(sorted(ALLOWED_DECISIONS[verdict]))
        team = cycles[i].get("decision")
        fits = "" if team is None else (
            f" The team decided to <b>{team}</b>: "
            + ("consistent with the data." if team in ALLOWED_DECISIONS[verdict]
               else "the data do not support that."))
        return (f"Median {b_med:.0f} before, {d_med:.0f} during. With a smallest important change "
                f"of {threshold.value:.0f}, the data show <b>{verdict.replace('_', ' ')}</b>, "
                f"so the decision should be {allowed}.{fits}")

    def update(_=None):
        _redraw(out, draw)

    choose.observe(update, names="value")
    threshold.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([choose, threshold]), out])
