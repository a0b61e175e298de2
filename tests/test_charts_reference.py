"""Do the charts reproduce published worked examples? (sources in tests/reference/charts/README.md)"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qicourse.charts import (
    anhoej_limits,
    assurance_type,
    ihi_runs_limits,
    qic,
)
from qicourse.charts.runs import swed_eisenhart_runs_limits
from qicourse.charts.rules import run_broken_by_centre, trend, two_of_three

REF = Path(__file__).parent / "reference" / "charts"
EXAMPLES = json.loads((REF / "control_chart_examples.json").read_text())["cases"]
MDC = json.loads((REF / "mdc_cases.json").read_text())


def _quiet_qic(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return qic(*args, **kwargs)


@pytest.mark.parametrize("case", EXAMPLES, ids=[c["id"] for c in EXAMPLES])
def test_published_control_chart_limits(case):
    """Are the centre line and limits those printed in the textbook / handbook?"""
    df = pd.read_csv(REF / case["file"])
    lo, hi = case["rows"]
    df = df.iloc[lo:hi]
    n = df[case["n"]].to_numpy() if "n" in case else None
    res = _quiet_qic(df[case["y"]].to_numpy(), n, **case["options"])
    exp, tol = case["expected"], case["tol"]
    assert res.summary["cl"] == pytest.approx(exp["cl"], abs=tol)
    assert res.summary["ucl"] == pytest.approx(exp["ucl"], abs=tol)
    assert res.summary["lcl"] == pytest.approx(exp["lcl"], abs=tol)
    if "signals" in exp:
        assert res.signals.index.tolist() == exp["signals"]


def test_orange_juice_revised_limits_still_test_excluded_points():
    """Are excluded samples 15 and 23 still plotted and flagged against the revised limits?"""
    df = pd.read_csv(REF / "montgomery_orange_juice.csv").iloc[:30]
    res = qic(df["nonconforming"], df["size"], chart="p", exclude=[14, 22])
    pts = res.points
    assert pts.loc[[14, 22], "excluded"].all()
    assert not pts.loc[[14, 22], "baseline"].any()
    assert pts.loc[[14, 22], "signal"].all()
    assert (pts.loc[[14, 22], "rule"] == "outside_limits").all()


def _csv(name):
    with open(REF / name) as f:
        return list(csv.DictReader(f))


def test_anhoej_table_n_10_to_100():
    """Do the Anhøj limits match qicharts2's published table (vignette Appendix 2) for n = 10..100?"""
    rows = _csv("anhoej_critical_values.csv")
    assert [int(r["n_useful"]) for r in rows] == list(range(10, 101))
    for r in rows:
        n = int(r["n_useful"])
        assert anhoej_limits(n) == (int(r["longest_run_max"]), int(r["crossings_min"])), n
        assert anhoej_limits(n) == (int(r["published_longest_run_max"]), int(r["published_crossings_min"])), n


def test_anhoej_table_in_team_anchors():
    """Is the n = 10..40 table of the team's research notes (anchors.md B2) reproduced exactly?"""
    anchors = (
        "10:6/2 11:6/2 12:7/3 13:7/3 14:7/4 15:7/4 16:7/4 17:7/5 18:7/5 19:7/6 20:7/6 21:7/6 "
        "22:7/7 23:8/7 24:8/8 25:8/8 26:8/8 27:8/9 28:8/9 29:8/10 30:8/10 31:8/11 32:8/11 "
        "33:8/11 34:8/12 35:8/12 36:8/13 37:8/13 38:8/14 39:8/14 40:8/14"
    )
    for item in anchors.split():
        n, limits = item.split(":")
        assert anhoej_limits(int(n)) == tuple(int(v) for v in limits.split("/")), n


def test_anhoej_vignette_24_points():
    """With 24 useful points, is a run of more than 8 or fewer than 8 crossings the signal?"""
    assert anhoej_limits(24) == (8, 8)


def test_swed_eisenhart_limits_match_enumeration():
    """Does the closed-form runs distribution give the brute-force limits for n = 10..20?"""
    for r in _csv("ihi_runs_limits.csv"):
        assert swed_eisenhart_runs_limits(int(r["n_useful"])) == (int(r["runs_min"]), int(r["runs_max"]))


def test_ihi_runs_limits_are_the_published_ihi_table():
    """Where a copy of the IHI table was found, its rows win over the exact computation (n = 11, 12)."""
    published = _csv("ihi_runs_published.csv")
    assert len(published) == 7
    for r in published:
        assert ihi_runs_limits(int(r["n_useful"])) == (int(r["runs_min"]), int(r["runs_max"])), r["n_useful"]
    # the published table is more lenient than the exact 2.5 % tails at 11 and 12 points
    assert swed_eisenhart_runs_limits(11) == (4, 9) and ihi_runs_limits(11) == (3, 10)
    assert swed_eisenhart_runs_limits(12) == (4, 10) and ihi_runs_limits(12) == (3, 11)


def test_ihi_runs_limits_outside_the_table_are_exact():
    """Rows not found in a copy of the IHI table fall back to the exact Swed-Eisenhart limits."""
    covered = {int(r["n_useful"]) for r in _csv("ihi_runs_published.csv")}
    for r in _csv("ihi_runs_limits.csv"):
        n = int(r["n_useful"])
        if n not in covered:
            assert ihi_runs_limits(n) == (int(r["runs_min"]), int(r["runs_max"]))


def test_ihi_runs_row_16_is_5_to_13_not_quality_digest():
    """16 useful points: 5-13 runs (Swed & Eisenhart); Quality Digest's 5-12 is Balestracci's own table.

    Balestracci (Quality Digest, Oct 2008) pairs his table with runs of 8 and trends of 6, a
    different rule set from Perla et al.'s shift of 6 and trend of 5. The published Swed-Eisenhart
    critical values for 8 above and 8 below (Triola, Elementary Statistics, Table A-10: 4 and 14)
    leave 5 to 13 runs as common cause, as the exact computation does.
    """
    assert ihi_runs_limits(16) == swed_eisenhart_runs_limits(16) == (5, 13)
    signs = "++--+-+-+-+-+--+"  # 8 above, 8 below the median, 13 runs
    y = np.array([10 + i / 10 if c == "+" else 1 + i / 10 for i, c in enumerate(signs)])
    s = qic(y, rules="ihi").summary
    assert (s["n_useful"], s["runs"], s["runs_signal"]) == (16, 13, False)  # a signal under the 5-12 print
    s = qic(np.r_[y[:2], y[3:], y[2]], rules="ihi").summary  # move one low point to the end: 14 runs
    assert (s["runs"], s["runs_rules"]) == (14, ["ihi_too_many_runs"])


@pytest.mark.parametrize("case", MDC["shift"]["cases"])
def test_mdc_seven_points_one_side(case):
    """Does the MDC shift rule flag whole runs of 7+ on one side, as NHSRplotthedots does?"""
    y = np.array(case["y"], float)
    flag, _ = run_broken_by_centre(y, np.zeros_like(y), 7)
    assert np.flatnonzero(flag).tolist() == case["flagged"]


@pytest.mark.parametrize("case", MDC["trend"]["cases"])
def test_mdc_seven_point_trend(case):
    """Does the MDC trend rule need 6 same-sign differences, with a tie breaking it?"""
    flag, side = trend(np.array(case["y"], float), 7, ties="break")
    assert np.flatnonzero(flag).tolist() == case["flagged"]
    if case["flagged"]:
        assert set(side[flag]) == {case["side"]}


@pytest.mark.parametrize("case", MDC["two_of_three"]["cases"])
def test_mdc_two_of_three(case):
    """Are only the close-to-limit points of a 2-of-3 window flagged?"""
    close = np.array(case["close"], bool)
    y = np.where(close, 2.5, 0.5)  # sigma 1, mean 0: close points between 2 and 3 sigma, all above
    m = y.size
    flag, _ = two_of_three(y, np.zeros(m), np.full(m, 3.0), np.full(m, -3.0), np.full(m, 2.0), np.full(m, -2.0))
    assert np.flatnonzero(flag).tolist() == case["flagged"]


def test_mdc_two_of_three_needs_same_side():
    """Are two close points on opposite sides of the mean common cause (NHSRplotthedots test)?"""
    case = MDC["opposite_sides"]
    res = _quiet_qic(case["y"], chart="i", rules="mdc", screen_mr=True)
    assert res.points["variation"].tail(2).tolist() == case["last_two_variation"]


def test_mdc_decreasing_trend_flagged():
    """Is a falling trend of 8 all special cause (NHSRplotthedots issue #167)?"""
    res = _quiet_qic(MDC["decreasing_trend_issue_167"]["y"], chart="i", rules="mdc", direction="increase")
    assert res.points["signal"].all()
    assert set(res.points["rule"]) == {"outside_limits", "mdc_trend"}
    assert (res.points.loc[1:6, "variation"] == "concern").all()


def test_mdc_xmr_limits_match_snapshot():
    """Do the MDC XmR limits (2.66 x MR-bar, screened MRs) match NHSRplotthedots' snapshot?"""
    case = MDC["standard_limits"]
    # the stored values are those the snapshot prints, to 3 significant figures
    for full, shown in zip(case["y"], case["y_snapshot"]):
        assert float(f"{full:.3g}") == shown
    res = _quiet_qic(case["y"], chart="i", rules="mdc", screen_mr=True)
    assert float(f"{res.summary['cl']:.3g}") == case["mean"]
    assert float(f"{res.summary['lcl']:.3g}") == case["lpl"]
    assert float(f"{res.summary['ucl']:.3g}") == case["upl"]


@pytest.mark.parametrize("direction", ["increase", "decrease", "neutral"])
def test_mdc_assurance_cases(direction):
    """Is the assurance verdict that of NHSRplotthedots' tests for each direction?"""
    case = MDC["assurance"]
    got = [assurance_type(case["target"], lo, hi, direction) for lo, hi in case["limits"]]
    assert got == case[direction]
