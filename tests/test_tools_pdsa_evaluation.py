"""Unit tests for qicourse.tools.pdsa and qicourse.tools.evaluation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qicourse.tools.evaluation import (
    before_after_by_group,
    expected_rtm_effect,
    gap,
    segmented_design,
    segmented_regression,
    simulate_regression_to_mean,
    stratify,
)
from qicourse.tools.pdsa import PDSALog, classify_result


# ---------------------------------------------------------------- PDSA log
def good_cycle(**over):
    base = dict(
        change="Sepsis trolley on AMU", planned="2024-03-01", prediction="median 70 -> 60 min",
        predicted_value=60, start="2024-03-04", end="2024-03-17", studied="2024-03-18",
        baseline_value=70, result_value=58, learning="used on 9 of 10 shifts", decision="adopt",
    )
    base.update(over)
    return base


def new_log():
    return PDSALog(measure="median minutes to antibiotics", direction="decrease", min_change=5)


def test_consistent_log_has_no_problems():
    """Does a well-kept two-cycle ramp pass?"""
    log = new_log()
    log.add_cycle(**good_cycle())
    log.add_cycle(**good_cycle(change="Trolley on two wards", planned="2024-03-18",
                               start="2024-03-19", end="2024-04-01", studied="2024-04-02",
                               baseline_value=58, result_value=57, predicted_value=50,
                               decision="adapt"))
    assert log.problems() == []
    log.check()
    frame = log.to_frame()
    assert list(frame["outcome"]) == ["met_prediction", "no_change"]
    assert list(frame["number"]) == [1, 2]


@pytest.mark.parametrize("over, phrase", [
    (dict(prediction="", predicted_value=None), "no prediction"),
    (dict(planned="2024-03-05"), "written after the test started"),
    (dict(end="2024-03-01", studied="2024-03-02", planned="2024-02-20"), "ends before it starts"),
    (dict(studied="2024-03-10"), "studied before the test ended"),
    (dict(learning=""), "no learning"),
    (dict(studied=None), "Study comes before Act"),
    (dict(decision="abandon"), "does not fit the data"),
    (dict(result_value=68, decision="adopt"), "does not fit the data"),
    (dict(result_value=80, decision="adopt"), "got worse"),
])
def test_each_mistake_is_named(over, phrase):
    """Is each classic PDSA mistake reported in words that name it?"""
    log = new_log()
    log.add_cycle(**good_cycle(**over))
    problems = log.problems()
    assert any(phrase in p for p in problems), problems
    with pytest.raises(ValueError, match="PDSA log has problems"):
        log.check()


def test_cycles_must_follow_each_other():
    """Is a cycle that overlaps, or is planned before the last was studied, flagged?"""
    log = new_log()
    log.add_cycle(**good_cycle())
    log.add_cycle(**good_cycle(planned="2024-03-10", start="2024-03-12", end="2024-03-20",
                               studied="2024-03-21"))
    text = " ".join(log.problems())
    assert "starts before cycle 1 ends" in text
    assert "planned before cycle 1 was studied" in text


def test_bad_input_raises_clear_errors():
    """Are bad decisions, dates, numbers and unknown fields refused with a message?"""
    log = new_log()
    with pytest.raises(ValueError, match="decision must be one of"):
        log.add_cycle(**good_cycle(decision="keep"))
    with pytest.raises(ValueError, match="not a date"):
        log.add_cycle(**good_cycle(start="next Tuesday"))
    with pytest.raises(ValueError, match="must be a number"):
        log.add_cycle(**good_cycle(result_value="lots"))
    with pytest.raises(ValueError, match="Unknown PDSA field"):
        log.add_cycle(**good_cycle(colour="red"))
    with pytest.raises(ValueError, match="needs 'planned'"):
        log.add_cycle(**{k: v for k, v in good_cycle().items() if k != "planned"})
    with pytest.raises(ValueError, match="direction"):
        PDSALog(measure="x", direction="up")
    assert log.cycles == []


def test_decisions_are_case_insensitive_and_from_records_round_trip():
    """Does from_records accept 'Adopt' and give the same log as add_cycle?"""
    log = PDSALog.from_records([good_cycle(decision="Adopt")], measure="m", direction="decrease",
                               min_change=5)
    assert log.cycles[0].decision == "adopt"
    assert log.problems() == []


@pytest.mark.parametrize("baseline, result, predicted, direction, expected", [
    (70, 58, 60, "decrease", "met_prediction"),
    (70, 62, 60, "decrease", "improved"),
    (70, 66, 60, "decrease", "no_change"),
    (70, 74, 60, "decrease", "no_change"),
    (70, 75, 60, "decrease", "worse"),
    (0.60, 0.80, 0.75, "increase", "met_prediction"),
    (0.60, 0.50, 0.75, "increase", "worse"),
])
def test_classify_result(baseline, result, predicted, direction, expected):
    """Does the verdict respect the direction and the smallest change that matters?"""
    min_change = 5 if baseline > 1 else 0.05
    assert classify_result(baseline, result, predicted, direction, min_change) == expected


# ---------------------------------------------------------------- segmented regression
def test_segmented_regression_recovers_exact_line():
    """With no noise, are the four coefficients recovered exactly?"""
    n, k = 30, 12
    t = np.arange(n)
    y = 50 + 0.5 * t - 8 * (t >= k) - 0.3 * np.where(t >= k, t - k, 0)
    fit = segmented_regression(y, k)
    assert fit.coef == pytest.approx(
        {"baseline_level": 50, "baseline_slope": 0.5, "level_change": -8, "slope_change": -0.3})
    assert np.allclose(fit.fitted, y)
    assert fit.counterfactual[-1] == pytest.approx(50 + 0.5 * (n - 1))


def test_segmented_regression_matches_separate_lines():
    """Is the fit the same as two separate straight lines (the model's algebraic identity)?

    The fully interacted segmented model equals one OLS line before the break and one after;
    numpy.polyfit on each segment is an independent computation of the same coefficients.
    """
    rng = np.random.default_rng(4)
    n, k = 40, 17
    y = 30 + rng.normal(0, 3, n) + np.r_[np.zeros(k), np.full(n - k, -5)]
    fit = segmented_regression(pd.Series(y), k)
    t = np.arange(n)
    b_slope, b_int = np.polyfit(t[:k], y[:k], 1)
    a_slope, a_int = np.polyfit(t[k:] - k, y[k:], 1)
    assert fit.baseline_level == pytest.approx(b_int)
    assert fit.baseline_slope == pytest.approx(b_slope)
    assert fit.slope_change == pytest.approx(a_slope - b_slope)
    assert fit.level_change == pytest.approx(a_int - (b_int + b_slope * k))
    assert all(v > 0 for v in fit.std_errors.values())


def test_segmented_design_and_errors():
    """Is the design matrix laid out as Wagner et al. describe, and are short series refused?"""
    d = segmented_design(6, 3)
    assert list(d["time"]) == [0, 1, 2, 3, 4, 5]
    assert list(d["after"]) == [0, 0, 0, 1, 1, 1]
    assert list(d["time_after"]) == [0, 0, 0, 0, 1, 2]
    with pytest.raises(ValueError, match="at least 2 periods"):
        segmented_regression([1, 2, 3, 4, 5], 4)
    with pytest.raises(ValueError, match="missing values"):
        segmented_regression([1, 2, np.nan, 4, 5, 6], 3)


# ---------------------------------------------------------------- stratification
def frame():
    return pd.DataFrame({
        "imd": pd.Categorical([1, 1, 1, 5, 5, 5, 5], categories=[1, 2, 3, 4, 5]),
        "minutes": [90, 100, 80, 40, 60, 50, 70],
        "after": [False, True, True, False, False, True, True],
    })


def test_stratify_median_keeps_empty_groups():
    """Are medians per group right, with empty groups shown as n = 0?"""
    t = stratify(frame(), "imd", "minutes")
    assert t.loc[1, "median"] == 90 and t.loc[5, "median"] == 55
    assert t.loc[3, "n"] == 0 and math.isnan(t.loc[3, "median"])
    assert gap(t, 1, 5) == 35
    with pytest.raises(ValueError, match="not in the table"):
        gap(t, 1, 9)
    with pytest.raises(ValueError, match="not in the data"):
        stratify(frame(), "ethnicity", "minutes")


def test_before_after_by_group():
    """Does the before/after table give each group's change?"""
    df = frame()
    t = before_after_by_group(df, "imd", "minutes", df["after"])
    assert t.loc[1, "before"] == 90 and t.loc[1, "after"] == 90 and t.loc[1, "change"] == 0
    assert t.loc[5, "before"] == 50 and t.loc[5, "after"] == 60


# ---------------------------------------------------------------- regression to the mean
def test_rtm_simulation_matches_barnett_formula():
    """Does the simulated fall match Barnett et al.'s (2005) expected regression to the mean?"""
    sim = simulate_regression_to_mean(n_units=200_000, mean=10, between_sd=2, within_sd=2,
                                      select_top=0.2, seed=1)
    expected = expected_rtm_effect(10, 2, 2, sim.cutoff)
    assert sim.apparent_improvement == pytest.approx(expected, rel=0.03)
    assert sim.everyone_after == pytest.approx(sim.everyone_before, abs=0.05)


def test_rtm_vanishes_without_measurement_noise():
    """With no within-unit variation there is nothing to regress: is the effect zero?"""
    sim = simulate_regression_to_mean(n_units=500, within_sd=0, seed=2)
    assert sim.apparent_improvement == pytest.approx(0)
    assert expected_rtm_effect(10, 2, 0, 12) == 0
    with pytest.raises(ValueError, match="select_top"):
        simulate_regression_to_mean(select_top=0)


# ---------------------------------------------------------------- widgets (headless)
@pytest.fixture
def figures():
    """Count the figures the explorers draw (Agg backend: plt.show() leaves them open)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield lambda: len(plt.get_fignums())
    plt.close("all")


def test_spc_explorer_redraws_when_the_sliders_move(figures):
    """Does the SPC explorer draw an initial chart headless and redraw on each slider change?"""
    from qicourse.widgets.variation import spc_explorer

    rng = np.random.default_rng(0)
    y = np.r_[rng.normal(10, 1, 20), rng.normal(7, 1, 20)]
    box = spc_explorer(y, chart="i", freeze=20, ylab="minutes")
    assert figures() == 1
    freeze, phase = box.children[0].children
    assert (freeze.value, phase.value) == (20, 0)
    phase.value = 20
    freeze.value = 30  # a baseline running past the new phase is ignored, not an error
    assert figures() == 3


def test_other_explorers_draw_and_refuse_bad_arguments(figures):
    """Do the RTM, stratification and PDSA explorers draw, redraw, and refuse bad input clearly?"""
    from qicourse.widgets.variation import (
        limits_width_demo,
        pdsa_study_explorer,
        rtm_explorer,
        stratification_chooser,
    )

    box = rtm_explorer()
    box.children[0].children[0].value = 0.0
    assert figures() == 2
    stratification_chooser(frame(), "minutes", ["imd"], period="after")
    assert figures() == 3
    with pytest.raises(ValueError, match="at least one column"):
        stratification_chooser(frame(), "minutes", [])
    weeks = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    weekly = pd.Series(np.r_[np.full(10, 100.0), np.full(10, 80.0), np.full(10, 78.0)], index=weeks)
    cycles = [{"date": weeks[10], "title": "grab bags", "decision": "adopt"},
              {"date": weeks[20], "title": "posters", "decision": "adopt"}]
    box = pdsa_study_explorer(weekly, cycles, min_change=10)
    box.children[0].children[0].value = 1
    assert figures() == 5
    with pytest.raises(ValueError, match="at least one PDSA cycle"):
        pdsa_study_explorer(weekly, [])
    t = limits_width_demo(0.9, sizes=(10, 100))
    assert t["upper limit"].iloc[0] > t["upper limit"].iloc[1]
    with pytest.raises(ValueError, match="strictly between"):
        limits_width_demo(1.5)


def test_segmented_regression_reproduces_linden_2015_published_example():
    """Does the fit reproduce Linden's (2015) published ITS coefficients for California's Proposition 99?"""
    from pathlib import Path

    ref = pd.read_csv(Path(__file__).parent / "reference" / "its_california_cigsales.csv", comment="#")
    fit = segmented_regression(ref["cigsale"], int((ref["year"] < 1989).sum()))
    assert fit.baseline_level == pytest.approx(132.2258, abs=1e-4)
    assert fit.baseline_slope == pytest.approx(-1.779474, abs=1e-6)
    assert fit.level_change == pytest.approx(-20.0581, abs=1e-4)
    assert fit.baseline_slope + fit.slope_change == pytest.approx(-3.274126, abs=1e-6)
