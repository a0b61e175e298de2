"""Behaviour of qicourse.charts: options, rules, errors, helpers and plotting."""

from __future__ import annotations

import subprocess
import sys
import warnings
from math import comb

import numpy as np
import pandas as pd
import pytest

from qicourse.charts import (
    RULE_LABELS,
    RULE_SETS,
    ShortSeriesWarning,
    anhoej_limits,
    count_runs,
    qbinom_half,
    qic,
    runs_analysis,
)
from qicourse.charts.rules import run_skipping_centre, trend
from qicourse.charts.runs import binom_cdf

STABLE = [5, 7, 6, 4, 5, 6, 8, 5, 4, 6, 7, 5, 6, 4, 5, 7, 6, 5, 4, 6]


def quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortSeriesWarning)
        return qic(*args, **kwargs)


# ---------------------------------------------------------------- runs helpers


def test_count_runs_hand_example():
    """Is a learner's hand count reproduced, ignoring the point on the median?"""
    out = count_runs([1, 2, 3, 4, 5, 6, 7])
    assert out == {"n_obs": 7, "n_useful": 6, "runs": 2, "crossings": 1, "longest_run": 3}


def test_count_runs_point_on_centre_neither_breaks_nor_extends():
    """Does a point on the centre line leave a run intact and uncounted?"""
    assert count_runs([1, 1, 5, 1, 1, 9], centre=5) == {
        "n_obs": 6,
        "n_useful": 5,
        "runs": 2,
        "crossings": 1,
        "longest_run": 4,
    }


def test_count_runs_ignores_missing_values():
    """Are NaNs skipped when counting runs?"""
    assert count_runs([1, np.nan, 1, 9, 9], centre=5)["longest_run"] == 2
    assert count_runs([np.nan, np.nan], centre=5)["n_useful"] == 0


def test_runs_analysis_verdicts():
    """Does runs_analysis apply the named rule set's limits?"""
    few = [1] * 6 + [9] * 6 + [1] * 6 + [9] * 6  # 24 useful, 3 crossings, longest 6
    a = runs_analysis(few, 5)
    assert (a["crossings"], a["crossings_min"], a["runs_signal"]) == (3, 8, True)
    alternating = [1, 9] * 10  # 20 runs, more than IHI's 15
    assert runs_analysis(alternating, 5, rules="ihi")["runs_signal"] is True
    assert runs_analysis(alternating, 5, rules="anhoej")["runs_signal"] is False
    with pytest.raises(ValueError, match="rules"):
        runs_analysis(few, 5, rules="mdc")


def test_qbinom_matches_definition_small_n():
    """Is qbinom_half the smallest k with CDF >= p (R's definition) for n = 1..60?"""
    for size in range(1, 61):
        cdf = np.cumsum([comb(size, k) for k in range(size + 1)]) / 2**size
        assert qbinom_half(0.05, size) == int(np.argmax(cdf >= 0.05)), size


def test_binom_cdf():
    """Does binom_cdf agree with direct summation, including p != 0.5?"""
    assert binom_cdf(3, 10) == pytest.approx(sum(comb(10, k) for k in range(4)) / 1024)
    direct = sum(comb(12, k) * 0.3**k * 0.7 ** (12 - k) for k in range(5))
    assert binom_cdf(4, 12, 0.3) == pytest.approx(direct, rel=1e-12)
    assert binom_cdf(-1, 5) == 0.0 and binom_cdf(5, 5) == 1.0


def test_anhoej_limits_round_half_even_is_never_needed():
    """Is log2(n) never exactly k + 0.5, so R's and Python's rounding agree for n up to 10^5?"""
    n = np.arange(1, 100_001)
    frac = np.log2(n) % 1
    assert np.abs(frac - 0.5).min() > 1e-7  # closest: n = 46341, 1.6e-6 away
    assert anhoej_limits(45)[0] == 8 and anhoej_limits(46)[0] == 9  # log2 = 5.49 / 5.52


# ---------------------------------------------------------------- rules


def test_ihi_shift_skips_points_on_median():
    """Do 6 points on one side with a median point among them make an IHI shift?"""
    y = np.array([1, 1, 1, 5, 1, 1, 1, 9], float)
    flag, side = run_skipping_centre(y, np.full(8, 5.0), 6)
    assert np.flatnonzero(flag).tolist() == [0, 1, 2, 4, 5, 6]
    assert set(side[flag]) == {-1}


def test_ihi_trend_ties_count_once():
    """Does a tie neither break nor extend an IHI trend (but break an MDC one)?"""
    flag, side = trend([1, 2, 3, 3, 4, 5], 5, ties="skip")
    assert flag.all() and set(side) == {1}
    flag, _ = trend([1, 2, 3, 3, 4], 5, ties="skip")
    assert not flag.any()
    flag, _ = trend([1, 2, 3, 4, 4, 5, 6, 7], 7, ties="break")
    assert not flag.any()


def test_run_chart_anhoej_long_run_flags_points():
    """Are the points of an unusually long run flagged, with the phase's runs signal?"""
    y = [5, 7, 4, 6, 5, 8, 4, 7, 3, 3, 2, 3, 2, 3, 2, 3, 3, 6, 8, 5, 7, 4, 6, 8]
    res = qic(y)
    assert res.summary["longest_run"] == 9 and res.summary["longest_run_max"] == 8
    assert res.summary["runs_signal"]
    assert res.points.loc[8:16, "rule"].eq("anhoej_long_run").all()
    assert not res.points.loc[:7, "signal"].any()
    assert res.points["runs_signal"].all()


def test_run_chart_few_crossings_is_a_phase_signal():
    """Do too few crossings set runs_signal without flagging single points?"""
    y = [1, 2, 1, 2, 1, 2, 8, 9, 8, 9, 8, 9] * 2
    res = qic(y)
    assert res.summary["crossings"] < res.summary["crossings_min"]
    assert res.summary["runs_signal"] and not res.points["signal"].any()


def test_ihi_rules_on_run_chart():
    """Does rules='ihi' flag a 6-point shift and a 5-point trend that Anhøj ignores?"""
    y = [5, 6, 4, 5, 7, 3, 5, 8, 9, 9, 8, 9, 9, 4, 6, 1, 2, 3, 4, 5, 6, 4, 5, 6]
    ihi = qic(y, rules="ihi")
    anh = qic(y, rules="anhoej")
    assert "ihi_shift" in set(ihi.points["rule"])
    assert "ihi_trend" in set(ihi.points["rule"])
    assert ihi.points.loc[7:12, "rule"].eq("ihi_shift").all()
    assert not anh.points["signal"].any()


def test_rules_column_has_no_duplicates_and_first_is_rule():
    """Is each point's rule the first of its rules, with none repeated?"""
    rng = np.random.default_rng(3)
    y = np.r_[rng.normal(0, 1, 30), rng.normal(3, 1, 30)]
    res = qic(y, chart="i", rules="mdc")
    for rule, rules in zip(res.points["rule"], res.points["rules"]):
        listed = [r for r in rules.split(";") if r]
        assert len(listed) == len(set(listed))
        assert rule == (listed[0] if listed else "")
    assert (res.points["signal"] == (res.points["rule"] != "")).all()


def test_mdc_variation_follows_direction():
    """Is a high shift an improvement when higher is better and a concern when lower is?"""
    y = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 9, 9, 9, 9, 9, 9, 9, 9]
    up = qic(y, chart="i", rules="mdc", direction="increase")
    down = qic(y, chart="i", rules="mdc", direction="decrease")
    neutral = qic(y, chart="i", rules="mdc")
    assert set(up.points.loc[12:, "variation"]) == {"improvement"}
    assert set(down.points.loc[12:, "variation"]) == {"concern"}
    assert set(neutral.points.loc[12:, "variation"]) == {"neutral_high"}
    assert up.summary["variation_icon"] == "improvement_high"
    assert down.summary["variation_icon"] == "concern_high"


def test_mdc_uses_266_and_others_3_over_d2():
    """Does rules='mdc' use 2.66 x MR-bar while qicharts2-style rules use 3/1.128?"""
    mdc = quiet(STABLE, chart="i", rules="mdc")
    anh = quiet(STABLE, chart="i")
    amr = np.mean(np.abs(np.diff(STABLE)))
    assert mdc.summary["ucl"] - mdc.summary["cl"] == pytest.approx(2.66 * amr)
    assert anh.summary["ucl"] - anh.summary["cl"] == pytest.approx(3 / 1.128 * amr)


def test_screen_mr_drops_large_moving_ranges():
    """Does screen_mr remove moving ranges >= 3.267 x MR-bar before the limits?"""
    y = list(STABLE)
    y[10] = 40
    plain = quiet(y, chart="i")
    screened = quiet(y, chart="i", screen_mr=True)
    assert screened.summary["ucl"] < plain.summary["ucl"]
    mr = np.abs(np.diff(y))
    keep = mr[mr < 3.267 * mr.mean()]
    assert screened.summary["ucl"] - screened.summary["cl"] == pytest.approx(3 / 1.128 * keep.mean())


# ---------------------------------------------------------------- options


def test_freeze_uses_baseline_only():
    """With freeze=k, are the centre and limits those of the first k points, applied to all?"""
    y = STABLE + [9, 9, 10, 9, 10, 9, 9, 10]
    res = qic(y, chart="i", freeze=20)
    base = qic(STABLE, chart="i")
    assert res.points["cl"].nunique() == 1
    assert res.summary["cl"] == pytest.approx(base.summary["cl"])
    assert res.summary["ucl"] == pytest.approx(base.summary["ucl"])
    assert res.points["baseline"].tolist() == [True] * 20 + [False] * 8
    assert res.points.loc[20:, "signal"].any()


def test_part_gives_each_phase_its_own_limits():
    """Does part start a new phase with its own centre line?"""
    y = STABLE + [v + 10 for v in STABLE]
    res = qic(y, chart="i", part=[20])
    assert res.points["phase"].tolist() == [1] * 20 + [2] * 20
    assert [p["cl"] for p in res.phases] == pytest.approx([np.mean(STABLE), np.mean(STABLE) + 10])
    assert res.summary["phase"] == 2 and res.summary["n_phases"] == 2
    assert not res.points["signal"].any()


def test_exclude_equals_dropping_from_calculation():
    """Is the centre with exclude the centre of the remaining points, with excluded points tested?"""
    y = list(STABLE)
    y[5] = 30
    res = quiet(y, chart="c", exclude=[5])
    kept = [v for i, v in enumerate(y) if i != 5]
    assert res.summary["cl"] == pytest.approx(np.mean(kept))
    assert res.points.loc[5, "rule"] == "outside_limits"
    mask = np.zeros(len(y), bool)
    mask[5] = True
    assert quiet(y, chart="c", exclude=mask).summary["cl"] == res.summary["cl"]


def test_multiply_scales_values_not_signals():
    """Does multiply scale y, centre and limits and leave signals alone?"""
    y = [3, 5, 4, 6, 2, 5, 4, 3, 15, 4, 5, 3, 4, 6]
    n = [50] * len(y)
    a = qic(y, n, chart="p")
    b = qic(y, n, chart="p", multiply=100)
    for col in ("y", "cl", "ucl", "lcl"):
        assert np.allclose(b.points[col], 100 * a.points[col])
    assert b.points["rule"].tolist() == a.points["rule"].tolist()


def test_target_and_assurance():
    """Is the target kept per point and the assurance verdict given with a direction?"""
    res = quiet(STABLE, chart="i", target=20, direction="decrease", rules="mdc")
    assert (res.points["target"] == 20).all()
    assert res.summary["assurance"] == "consistent_pass"
    assert quiet(STABLE, chart="i", target=20).summary["assurance"] is None


def test_missing_values_are_skipped_and_reported():
    """Are NaNs kept as gaps, listed in skipped and notes, and left out of the limits?"""
    y = list(map(float, STABLE))
    y[3] = np.nan
    res = qic(y, chart="i")
    dropped = qic([v for v in y if not np.isnan(v)], chart="i")
    assert res.skipped == [3]
    assert any("missing" in note for note in res.notes)
    assert bool(res.points.loc[3, "skipped"]) and np.isnan(res.points.loc[3, "y"])
    assert not res.points.loc[3, "signal"]
    assert res.summary["ucl"] == pytest.approx(dropped.summary["ucl"])
    assert len(res.points) == len(y)


def test_dates_and_labels_as_x():
    """Are dates and labels kept as the x column?"""
    dates = pd.date_range("2025-01-01", periods=20, freq="MS")
    res = qic(STABLE, x=dates)
    assert pd.api.types.is_datetime64_any_dtype(res.points["x"])
    labels = [f"wk{i}" for i in range(20)]
    assert qic(STABLE, x=labels).points["x"].tolist() == labels


def test_run_chart_with_denominator_plots_proportion_and_median():
    """With n on a run chart, is y the proportion and the centre its median?"""
    y = [3, 4, 5, 6, 2, 4, 5, 3, 4, 5, 6, 4]
    n = [10] * 12
    res = qic(y, n)
    assert np.allclose(res.points["y"], np.array(y) / 10)
    assert res.summary["cl"] == pytest.approx(np.median(np.array(y) / 10))


def test_g_chart_median_centre_and_geometric_limits():
    """Is the g chart centre the median and are the limits mean ± 3 sqrt(mean(mean+1))?"""
    y = [12, 3, 25, 7, 40, 18, 2, 9, 30, 14, 6, 21]
    res = qic(y, chart="g")
    m = np.mean(y)
    assert res.summary["cl"] == pytest.approx(np.median(y))
    assert res.summary["ucl"] == pytest.approx(m + 3 * np.sqrt(m * (m + 1)))
    assert res.summary["lcl"] == 0


def test_t_chart_is_i_chart_on_transformed_scale():
    """Is the t chart an I chart on y^(1/3.6), back-transformed?"""
    y = np.array([286, 948, 536, 124, 816, 729, 4, 143, 431, 8, 2837, 596, 81, 227, 603], float)
    res = qic(y, chart="t")
    z = y ** (1 / 3.6)
    cl = z.mean()
    half = 3 / 1.128 * np.abs(np.diff(z)).mean()
    assert res.summary["cl"] == pytest.approx(cl**3.6)
    assert res.summary["ucl"] == pytest.approx((cl + half) ** 3.6)
    expected_lcl = (cl - half) ** 3.6 if cl > half else 0
    assert res.summary["lcl"] == pytest.approx(expected_lcl)
    assert np.allclose(res.points["y"], y)


def test_mr_chart_has_no_runs_analysis():
    """Is runs analysis skipped on an MR chart (as qicharts2 does)?"""
    res = quiet(STABLE, chart="mr")
    assert np.isnan(res.points.loc[0, "y"])
    assert not res.points["runs_signal"].any()
    assert set(res.points["rule"]) <= {"", "outside_limits"}


def test_short_series_warns():
    """Is there a ShortSeriesWarning below 12 points, and none at 12?"""
    with pytest.warns(ShortSeriesWarning):
        qic(STABLE[:11], chart="i")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        qic(STABLE[:12], chart="i")


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": STABLE, "chart": "xbar"}, "unknown chart 'xbar'"),
        ({"y": STABLE, "rules": "western"}, "unknown rules 'western'"),
        ({"y": STABLE, "direction": "up"}, "unknown direction"),
        ({"y": STABLE, "rules": "mdc"}, "needs control limits"),
        ({"y": STABLE, "chart": "g", "rules": "mdc"}, "rules='mdc' applies"),
        ({"y": [-1] + STABLE[1:], "chart": "c"}, "negative counts at positions \\[0\\]"),
        ({"y": STABLE, "n": [5] * 20, "chart": "p"}, "numerator above denominator"),
        ({"y": STABLE, "n": [0] + [10] * 19, "chart": "u"}, "zero denominators at positions \\[0\\]"),
        ({"y": STABLE, "n": [-10] + [10] * 19, "chart": "u"}, "negative denominators"),
        ({"y": STABLE, "n": [10] * 19, "chart": "p"}, "different lengths"),
        ({"y": STABLE, "x": list(range(19))}, "different lengths"),
        ({"y": STABLE, "chart": "p"}, "needs denominators"),
        ({"y": STABLE, "n": [30] * 20, "chart": "c"}, "not denominators"),
        ({"y": [0] + STABLE[1:], "chart": "t"}, "must be > 0"),
        ({"y": STABLE, "freeze": 1}, "freeze"),
        ({"y": STABLE, "freeze": 21}, "freeze"),
        ({"y": STABLE, "part": [0]}, "part positions"),
        ({"y": STABLE, "part": [20]}, "part positions"),
        ({"y": STABLE, "exclude": [20]}, "exclude positions"),
        ({"y": STABLE, "exclude": [True, False]}, "boolean mask"),
        ({"y": STABLE, "exclude": list(range(20))}, "every point is excluded"),
        ({"y": [1.0]}, "at least 2"),
        ({"y": [1.0, np.nan, np.nan]}, "at least 2"),
        ({"y": []}, "empty"),
        ({"y": ["a", "b", "c"]}, "must be numbers"),
        ({"y": STABLE, "multiply": 0}, "multiply"),
        ({"y": STABLE, "multiply": "100"}, "multiply"),
        ({"y": STABLE, "target": "high"}, "target must be a number"),
    ],
)
def test_bad_input_raises_clear_value_error(kwargs, message):
    """Is bad input a ValueError whose message names the problem?"""
    with pytest.raises(ValueError, match=message):
        quiet(**kwargs)


# ---------------------------------------------------------------- plotting


def test_calculation_does_not_import_matplotlib():
    """Can qic() run without matplotlib being imported?"""
    code = (
        "import sys, qicourse.charts as c; "
        "c.qic(list(range(1, 25)), chart='i', rules='mdc'); "
        "c.qic(list(range(1, 25))); "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture()
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plotting_never_changes_the_numbers(plt):
    """Is the result identical before and after plotting (both styles)?"""
    from qicourse.charts import plot_qic

    y = STABLE + [9, 10, 9, 11, 10, 9, 10, 11, 9, 10, 11, 10]
    res = qic(y, chart="i", rules="mdc", part=[20], target=8, direction="increase", exclude=[3])
    before_points, before_summary = res.points.copy(deep=True), dict(res.summary)
    plot_qic(res)
    plot_qic(res, style="mdc")
    pd.testing.assert_frame_equal(res.points, before_points)
    assert res.summary == before_summary


def test_plot_names_rules_in_legend_and_labels_axes(plt):
    """Does the legend name each rule that fired, with titles and units applied?"""
    from qicourse.charts import plot_qic

    y = [5, 6, 4, 5, 7, 3, 5, 8, 9, 9, 8, 9, 9, 4, 6, 1, 2, 3, 4, 5, 6, 4, 5, 6]
    res = qic(y, x=pd.date_range("2025-01-06", periods=24, freq="W"), rules="ihi")
    ax = plot_qic(res, title="Falls", ylab="Falls per 1,000 bed days", xlab="Week")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert RULE_LABELS["ihi_shift"] in labels and RULE_LABELS["ihi_trend"] in labels
    assert ax.get_title() == "Falls" and ax.get_ylabel() == "Falls per 1,000 bed days"
    assert ax.get_xlabel() == "Week"
    assert type(ax.xaxis.get_major_formatter()).__name__ == "ConciseDateFormatter"


def test_plot_steps_limits_per_point_and_separates_phases(plt):
    """Are varying p-chart limits drawn as steps through every point's own limit, per phase,
    with a phase-change line between the phases?"""
    from qicourse.charts import plot_qic

    rng = np.random.default_rng(3)
    n = rng.integers(20, 200, 30)
    y = rng.binomial(n, np.r_[np.full(15, 0.3), np.full(15, 0.15)])
    res = qic(y, n=n, chart="p", part=[15])
    ax = plot_qic(res)
    steps = [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-mid"]
    drawn_ucl = np.concatenate([ln.get_ydata() for ln in steps if np.allclose(ln.get_ydata(), res.points["ucl"].iloc[:15]) or np.allclose(ln.get_ydata(), res.points["ucl"].iloc[15:])])
    assert len(drawn_ucl) == 30 and len(np.unique(np.round(drawn_ucl, 9))) > 2  # one step per point
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Phase change" in labels
    separators = [ln for ln in ax.get_lines() if len(set(np.atleast_1d(ln.get_xdata()))) == 1 and len(ln.get_xdata()) == 2]
    assert len(separators) == 1


def test_plot_legend_and_badges_fit_inside_a_saved_figure(plt):
    """Saved with a plain savefig, is nothing (legend outside the axes, MDC badges) cut off?"""
    from qicourse.charts import plot_qic

    y = [5, 6, 4, 5, 7, 3, 5, 8, 9, 9, 8, 9, 9, 4, 6, 1, 2, 3, 4, 5, 6, 4, 5, 6]
    res = qic(y, chart="i", rules="mdc", direction="decrease", target=3)
    ax = plot_qic(res, style="mdc", title="Inpatient falls per week, elderly-care ward")
    fig = ax.figure
    fig.canvas.draw()
    page = fig.bbox
    legend = ax.get_legend().get_window_extent()
    assert legend.x1 <= page.x1 + 1 and legend.y1 <= page.y1 + 1
    for text in ax.texts:  # the icon badges sit above the axes
        box = text.get_window_extent()
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1 and box.y1 <= page.y1 + 1
        assert not box.overlaps(ax.title.get_window_extent())


def test_mdc_style_draws_icons_and_colours(plt):
    """Does style='mdc' colour special causes in MDC colours and add the icon badges?"""
    from matplotlib.colors import to_hex

    from qicourse.charts import plot_qic
    from qicourse.charts.plot import MDC_COLOURS

    y = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 9, 9, 9, 9, 9, 9, 9, 9]
    res = qic(y, chart="i", rules="mdc", direction="increase", target=3)
    ax = plot_qic(res, style="mdc")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "improvement" in texts and "Target" in texts
    colours = {to_hex(c) for coll in ax.collections for c in coll.get_facecolors()}
    # 12 points below the mean are a concern (7+ on one side), the last 8 an improvement
    assert {MDC_COLOURS["improvement"], MDC_COLOURS["concern"]} <= colours
    assert set(res.points["variation"]) == {"concern", "improvement"}


def test_rule_markers_distinct_within_each_rule_set():
    """Can every rule of a rule set be told apart by marker shape alone (greyscale)?"""
    from qicourse.charts.plot import _RULE_STYLE

    for rules in RULE_SETS.values():
        markers = [_RULE_STYLE[r][1] for r in rules]
        assert len(markers) == len(set(markers))


def test_plot_rejects_bad_style(plt):
    """Is an unknown style a clear error?"""
    from qicourse.charts import plot_qic

    with pytest.raises(ValueError, match="style"):
        plot_qic(qic(STABLE), style="fancy")


def test_plot_labels_on_categorical_x(plt):
    """Are text labels used as tick labels?"""
    from qicourse.charts import plot_qic

    labels = [f"M{i}" for i in range(20)]
    ax = plot_qic(qic(STABLE, x=labels))
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "M0"


# ---------------------------------------------------------------- calibration (light)


def _rate(chart, rules, n, reps, seed):
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        res = quiet(rng.normal(size=n), chart=chart, rules=rules)
        hits += bool(res.points["signal"].any() or res.summary["runs_signal"])
    return hits / reps


def test_calibration_on_stable_processes():
    """On stable data, do Anhøj's run rules signal about 5 %, 3-sigma as theory says, IHI more?"""
    anhoej = _rate("run", "anhoej", 50, 400, seed=11)
    assert 0.01 <= anhoej <= 0.10
    shewhart = _rate("i", "shewhart", 100, 400, seed=12)
    # P(any of 100 normal points beyond 3 sigma) = 1 - 0.9973^100 = 0.237 (limits estimated)
    assert 0.15 <= shewhart <= 0.33
    assert _rate("run", "ihi", 24, 200, seed=13) > anhoej


def test_python_dates_become_datetimes():
    """Are datetime.date objects on the x axis turned into datetimes for date formatting?"""
    import datetime as dt

    res = qic(STABLE, x=[dt.date(2025, 1, 1) + dt.timedelta(days=7 * i) for i in range(20)])
    assert pd.api.types.is_datetime64_any_dtype(res.points["x"])


def test_freeze_with_later_phase():
    """With freeze and part, does the later phase use all its own points?"""
    y = STABLE + [v + 10 for v in STABLE]
    res = qic(y, chart="i", freeze=12, part=[20])
    assert res.phases[0]["cl"] == pytest.approx(np.mean(STABLE[:12]))
    assert res.phases[0]["n_baseline"] == 12
    assert res.phases[1]["cl"] == pytest.approx(np.mean(STABLE) + 10)


def test_infinite_values_rejected():
    """Is an infinite value a clear error rather than silent NaN limits?"""
    with pytest.raises(ValueError, match="finite"):
        qic(STABLE[:-1] + [np.inf])


def test_rule_table_documents_every_rule_set_and_rule():
    """Do RULES.md and the package docstring both name every rule set and rule?"""
    from pathlib import Path

    import qicourse.charts as charts

    rules_md = (Path(charts.__file__).parent / "RULES.md").read_text()
    for name, rules in RULE_SETS.items():
        assert f"``{name}``" in charts.__doc__ and f"`{name}`" in rules_md
        for rule in rules:
            assert f"`{rule}`" in rules_md


def test_runs_rules_name_the_phase_signal(plt):
    """Is the runs test that fired named in the summary and in the plot legend?"""
    from qicourse.charts import plot_qic

    y = [1, 2, 1, 2, 1, 2, 8, 9, 8, 9, 8, 9] * 2
    res = qic(y)
    assert res.summary["runs_rules"] == ["anhoej_few_crossings"]
    labels = [t.get_text() for t in plot_qic(res).get_legend().get_texts()]
    assert any(RULE_LABELS["anhoej_few_crossings"] in label for label in labels)
    assert qic([1, 9] * 10, rules="ihi").summary["runs_rules"] == ["ihi_too_many_runs"]
    assert qic(STABLE).summary["runs_rules"] == []


def test_summary_is_json_serialisable():
    """Can an autograder store the summary and phases as JSON?"""
    import json

    res = qic(STABLE + [9] * 8, chart="i", rules="mdc", target=5, direction="increase", part=[14])
    json.dumps(res.summary)
    json.dumps(res.phases)


def test_mr_chart_restarts_in_each_phase():
    """Does each phase of an MR chart start without a moving range (as qicharts2 computes per part)?"""
    y = STABLE + [v + 10 for v in STABLE]
    res = qic(y, chart="mr", part=[20])
    assert np.isnan(res.points.loc[20, "y"])
    assert res.phases[1]["cl"] == pytest.approx(np.mean(np.abs(np.diff(STABLE))))


def test_explain_names_counts_limits_and_rules():
    """Does explain() give the counts, their limits and the rules that fired, in words?"""
    y = [5, 7, 4, 6, 5, 8, 4, 7, 3, 3, 2, 3, 2, 3, 2, 3, 3, 6, 8, 5, 7, 4, 6, 8]
    text = qic(y).explain()
    assert "longest run 9 (Anhøj limit 8)" in text
    assert "crossings 8 (Anhøj minimum 8)" in text
    assert "Unusually long run (Anhøj): 9 point(s)" in text
    assert "No signals" in qic(STABLE).explain()
