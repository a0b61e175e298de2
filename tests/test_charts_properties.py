"""Invariants of qicourse.charts, checked with hypothesis (modest example counts: fast)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qicourse.charts import ShortSeriesWarning, count_runs, qic, runs_analysis

SETTINGS = settings(max_examples=60, deadline=None)

ints = st.lists(st.integers(min_value=0, max_value=60), min_size=12, max_size=40)


def quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortSeriesWarning)
        return qic(*args, **kwargs)


def _near_limits(res, tol=1e-6):
    p = res.points
    return bool(((p["y"] - p["ucl"]).abs() < tol).any() or ((p["y"] - p["lcl"]).abs() < tol).any())


@SETTINGS
@given(ints)
def test_i_chart_limits_symmetric(y):
    """Are I chart limits symmetric about the centre line?"""
    res = quiet(y, chart="i")
    p = res.points
    assert np.allclose(p["ucl"] - p["cl"], p["cl"] - p["lcl"])


@SETTINGS
@given(ints)
def test_c_chart_limits_symmetric_before_clipping(y):
    """Is the C chart UCL c-bar + 3 sqrt(c-bar) and the LCL its mirror, clipped at 0?"""
    res = quiet(y, chart="c")
    cl = res.summary["cl"]
    assert np.isclose(res.summary["ucl"] - cl, 3 * np.sqrt(cl))
    assert np.isclose(res.summary["lcl"], max(cl - 3 * np.sqrt(cl), 0))


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 200)), min_size=12, max_size=40))
def test_p_limits_within_unit_interval(pairs):
    """Do p chart limits stay within [0, 1] whatever the subgroup sizes?"""
    n = np.array([b for _, b in pairs])
    y = np.minimum(np.array([a for a, _ in pairs]), n)
    res = quiet(y, n, chart="p")
    p = res.points
    assert ((p["lcl"] >= 0) & (p["ucl"] <= 1) & (p["lcl"] <= p["cl"]) & (p["cl"] <= p["ucl"])).all()


@SETTINGS
@given(ints, st.integers(min_value=-1000, max_value=1000), st.sampled_from(["anhoej", "ihi", "mdc", "shewhart"]))
def test_i_chart_rules_invariant_to_shift(y, k, rules):
    """Are the signals of an I chart unchanged when every value is shifted by a constant?"""
    a = quiet(y, chart="i", rules=rules)
    b = quiet([v + k for v in y], chart="i", rules=rules)
    assume(not _near_limits(a) and not _near_limits(b))
    assert a.points["rule"].tolist() == b.points["rule"].tolist()
    assert a.points["rules"].tolist() == b.points["rules"].tolist()
    assert a.summary["runs_signal"] == b.summary["runs_signal"]


@SETTINGS
@given(ints, st.sampled_from(["run", "i", "c", "g"]), st.sampled_from(["anhoej", "ihi", "mdc", "shewhart"]))
def test_no_signal_counted_twice(y, chart, rules):
    """Does each point carry at most one rule, listed once among the rules that fired?"""
    if chart == "run" and rules in ("mdc", "shewhart"):
        return
    if chart == "g" and rules == "mdc":
        return
    res = quiet(y, chart=chart, rules=rules)
    for rule, fired in zip(res.points["rule"], res.points["rules"]):
        listed = [r for r in fired.split(";") if r]
        assert len(listed) == len(set(listed))
        assert (rule == "") == (not listed)
        if listed:
            assert rule == listed[0]
    assert res.summary["n_signals_total"] == int(res.points["signal"].sum())


@SETTINGS
@given(ints, st.data())
def test_exclude_same_as_dropping_for_limits(y, data):
    """Are the centre and limits with exclude those of the data without the excluded points?"""
    k = data.draw(st.lists(st.integers(0, len(y) - 1), max_size=len(y) - 3, unique=True))
    kept = [v for i, v in enumerate(y) if i not in set(k)]
    for chart in ("i", "c", "run"):
        a = quiet(y, chart=chart, exclude=k)
        b = quiet(kept, chart=chart)
        for key in ("cl", "ucl", "lcl"):
            assert np.isclose(a.summary[key], b.summary[key], equal_nan=True), (chart, key)
        # excluded points are still tested against those limits
        assert len(a.points) == len(y)


@SETTINGS
@given(ints, st.data())
def test_freeze_same_as_baseline_alone(y, data):
    """Are frozen limits those of the first k points, and signals in the baseline unchanged?"""
    k = data.draw(st.integers(min_value=4, max_value=len(y)))
    for chart in ("i", "c", "run"):
        a = quiet(y, chart=chart, freeze=k)
        b = quiet(y[:k], chart=chart)
        for key in ("cl", "ucl", "lcl"):
            assert np.isclose(a.summary[key], b.summary[key], equal_nan=True), (chart, key)
        if chart != "run":
            # outside-limits verdicts in the baseline do not depend on later points
            sa = a.points.loc[: k - 1, "rules"].str.contains("outside_limits")
            sb = b.points["rules"].str.contains("outside_limits")
            assert sa.tolist() == sb.tolist()


@SETTINGS
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=60), st.floats(-5, 5))
def test_count_runs_matches_naive_loop(values, centre):
    """Does the vectorised run count equal a plain loop over the points?"""
    useful = [1 if v > centre else -1 for v in values if v != centre]
    runs, longest, current = 0, 0, 0
    for i, s in enumerate(useful):
        if i == 0 or s != useful[i - 1]:
            runs += 1
            current = 1
        else:
            current += 1
        longest = max(longest, current)
    out = count_runs(values, centre)
    assert (out["n_useful"], out["runs"], out["longest_run"]) == (len(useful), runs, longest)
    assert out["crossings"] == max(runs - 1, 0)


@SETTINGS
@given(st.lists(st.integers(0, 9), min_size=10, max_size=60))
def test_run_chart_summary_matches_runs_analysis(y):
    """Does qic's run chart summary agree with runs_analysis about the median?"""
    res = quiet(y)
    ra = runs_analysis(y)
    for key in ("n_useful", "runs", "crossings", "longest_run", "longest_run_max", "crossings_min", "runs_signal"):
        assert res.summary[key] == ra[key], key
