"""Point rules for special-cause signals, each vectorised over one phase of a chart.

Every function takes the values of one phase in time order (no missing values) and returns
``(flag, side)`` arrays: ``flag`` marks the points that are part of the pattern and ``side`` is
+1 (high / increasing) or -1 (low / decreasing) for flagged points, 0 elsewhere.

Sources:

* ``outside_limits``: Shewhart 3-sigma limits (Montgomery, *Introduction to Statistical Quality
  Control*, ch. 6-7).
* ``anhoej_long_run``: Anhøj J, Olesen AV. Run charts revisited. PLoS ONE 2014;9:e113825, as
  implemented in qicharts2 ``runs.analysis`` (longest run > round(log2 n) + 3, Schilling 2012).
* ``ihi_shift``, ``ihi_trend``: Perla RJ, Provost LP, Murray SK. The run chart: a simple
  analytical tool for learning from variation in healthcare processes. BMJ Qual Saf
  2011;20:46-51.
* ``mdc_trend``, ``mdc_two_of_three``, ``mdc_shift``: NHS England, Making Data Count (2019);
  NHSRplotthedots ``R/ptd_calculate_point_type.R`` (MIT).

How each treats ties and points on the centre line is tabulated in ``RULES.md`` beside this
module and in the package docstring.
"""

from __future__ import annotations

import numpy as np

from .runs import rle

#: rule name -> human-readable label used in plots and notes
RULE_LABELS = {
    "outside_limits": "Point outside the control limits (3-sigma)",
    "anhoej_long_run": "Unusually long run (Anhøj)",
    "ihi_shift": "Shift: 6+ points on one side of the median (IHI)",
    "ihi_trend": "Trend: 5+ points all rising or all falling (IHI)",
    "mdc_trend": "Trend: 7 points rising or falling (MDC)",
    "mdc_two_of_three": "2 of 3 points near a limit (MDC)",
    "mdc_shift": "Shift: 7 points on one side of the mean (MDC)",
    # phase-level runs tests (summary["runs_rules"]; the centre line is drawn dashed)
    "anhoej_few_crossings": "Unusually few crossings (Anhøj)",
    "ihi_too_few_runs": "Too few runs (IHI)",
    "ihi_too_many_runs": "Too many runs (IHI)",
}

#: point rules applied by each rule set, in priority order (the first that fires is `rule`)
RULE_SETS = {
    "shewhart": ("outside_limits",),
    "anhoej": ("outside_limits", "anhoej_long_run"),
    "ihi": ("outside_limits", "ihi_shift", "ihi_trend"),
    "mdc": ("outside_limits", "mdc_trend", "mdc_two_of_three", "mdc_shift"),
}


def outside_limits(y, ucl, lcl):
    """Shewhart: a point strictly above the UCL or strictly below the LCL."""
    with np.errstate(invalid="ignore"):
        above = y > ucl
        below = y < lcl
    flag = above | below
    return flag, np.where(above, 1, np.where(below, -1, 0))


def run_skipping_centre(y, cl, min_len):
    """Runs of ``min_len`` or more useful points on one side; points on the centre are skipped.

    Used by the Anhøj long-run rule and the IHI shift rule: a point exactly on the centre line
    neither breaks nor extends the run and is not itself flagged.
    """
    s = np.sign(y - cl)
    idx = np.flatnonzero(s != 0)
    flag = np.zeros(y.shape, bool)
    side = np.zeros(y.shape, int)
    if idx.size:
        _, lengths, values = rle(s[idx])
        hit = np.repeat(lengths >= min_len, lengths)
        flag[idx[hit]] = True
        side[idx[hit]] = np.repeat(values, lengths)[hit].astype(int)
    return flag, side


def run_broken_by_centre(y, cl, min_len):
    """MDC shift: ``min_len`` or more points in a row on one side; a point on the mean breaks it."""
    s = np.sign(y - cl).astype(int)
    starts, lengths, values = rle(s)
    hit = np.repeat((lengths >= min_len) & (values != 0), lengths)
    return hit, np.where(hit, s, 0)


def trend(y, min_points, ties):
    """Points rising (or falling) for ``min_points`` in a row.

    ``ties="skip"`` (IHI): of successive equal values only one counts, so a tie neither breaks
    nor extends the trend (the tied points are flagged with it). ``ties="break"`` (MDC,
    NHSRplotthedots): a tie ends the trend. A point shared by two trends (a peak or trough) takes
    the side of the later trend, as NHSRplotthedots does.
    """
    y = np.asarray(y, float)
    flag = np.zeros(y.shape, bool)
    side = np.zeros(y.shape, int)
    if y.size < min_points:
        return flag, side
    if ties == "skip":
        keep = np.r_[True, y[1:] != y[:-1]]
    else:
        keep = np.ones(y.shape, bool)
    group = np.cumsum(keep) - 1
    yc = y[keep]
    d = np.sign(np.diff(yc)).astype(int)
    starts, lengths, values = rle(d)
    cflag = np.zeros(yc.shape, bool)
    cside = np.zeros(yc.shape, int)
    for st, ln, v in zip(starts, lengths, values):
        if v != 0 and ln >= min_points - 1:
            cflag[st : st + ln + 1] = True
            cside[st : st + ln + 1] = v
    return cflag[group], cside[group]


def two_of_three(y, cl, ucl, lcl, ucl2, lcl2):
    """MDC: 2 of 3 consecutive points in the band between 2 sigma and the limit, all 3 on one side.

    As NHSRplotthedots ``ptd_two_in_three``: points beyond the limits do not count as "close",
    a point on the mean spoils the window, and only the close points are flagged.
    """
    with np.errstate(invalid="ignore"):
        outside = (y > ucl) | (y < lcl)
        close = ~outside & ((y > ucl2) | (y < lcl2))
    rel = np.sign(y - cl).astype(int)
    n = y.size
    flag = np.zeros(n, bool)
    if n >= 3:
        c = close.astype(int)
        csum = c[:-2] + c[1:-1] + c[2:]
        rsum = rel[:-2] + rel[1:-1] + rel[2:]
        window = (csum >= 2) & (np.abs(rsum) == 3)
        in_window = np.zeros(n, bool)
        for k in range(3):
            in_window[k : n - 2 + k] |= window
        flag = in_window & close
    return flag, np.where(flag, rel, 0)


def point_rules(name: str, y, cl, ucl, lcl, ucl2, lcl2, longest_run_max: int):
    """Dispatch one named point rule on one phase."""
    if name == "outside_limits":
        return outside_limits(y, ucl, lcl)
    if name == "anhoej_long_run":
        return run_skipping_centre(y, cl, longest_run_max + 1)
    if name == "ihi_shift":
        return run_skipping_centre(y, cl, 6)
    if name == "ihi_trend":
        return trend(y, 5, ties="skip")
    if name == "mdc_trend":
        return trend(y, 7, ties="break")
    if name == "mdc_two_of_three":
        return two_of_three(y, cl, ucl, lcl, ucl2, lcl2)
    if name == "mdc_shift":
        return run_broken_by_centre(y, cl, 7)
    raise ValueError(f"unknown rule {name!r}")
