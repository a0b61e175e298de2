"""Facts for the rubric marker, computed from the learner's own executed notebook.

Some rubric criteria ask whether the write-up reads the learner's *own* chart correctly (did they
name the signal it shows?). The grading child runs a probe after the notebook's last cell, on the
learner's variables, and sends back JSON; `grade` passes it to `mark_answer(..., facts=...)`.

The capstone (m8) probe reads `p_limits` (Question 3: one row per week with `p`, `cl`, `lcl`,
`ucl`, the data the learner's Question 7 chart is drawn from) and applies the rules a p chart is
read by in this course, as `qicourse.charts.qic` does for control charts (qicharts2 defaults):

- points outside the control limits (Shewhart);
- Anhøj runs rules (Anhøj & Olesen, PLoS One 2014): a run on one side of the centre line longer
  than round(log2 n) + 3 ("shift"), or fewer crossings of the centre line than
  qbinom(0.05, n - 1, 0.5) ("crossings"), with n the points not on the centre line;
- and, so that a learner who names one is not told they misread, a trend of 6 or more points each
  higher (or each lower) than the one before (NHS Making Data Count).

It also reads `equity_percent` (Question 8) for the gap between the most and least deprived IMD quintiles
before and after the changes, so a claim that the gap narrowed can be checked (`capstone_equity_facts`).

No `p_limits`, or one that is not a DataFrame of numbers with those columns, gives no facts: the
marker then accepts any named signal, as it does without a notebook. A learner can only change
their own provisional write-up mark this way, which an educator confirms.
"""

from __future__ import annotations

import math

#: rows beyond which a "chart" is not a weekly chart (and exact binomial sums would be slow)
MAX_POINTS = 5000


def _qbinom_half_05(size: int) -> int:
    """qbinom(0.05, size, 0.5): the smallest x with P(X <= x) >= 0.05, in exact integer arithmetic."""
    total, cum = 2 ** size, 0
    for x in range(size + 1):
        cum += math.comb(size, x)
        if 20 * cum >= total:
            return x
    return size


def chart_signals(p, cl, lcl, ucl) -> dict:
    """The signals a chart of `p` with centre line `cl` and limits `lcl`/`ucl` shows (sequences of floats)."""
    pts = [(a, b, lo, hi) for a, b, lo, hi in zip(p, cl, lcl, ucl)
           if all(isinstance(v, float) and math.isfinite(v) for v in (a, b))]
    outside = sum(1 for a, _, lo, hi in pts if (math.isfinite(hi) and a > hi) or (math.isfinite(lo) and a < lo))
    sides = [1 if a > b else -1 for a, b, _, _ in pts if a != b]
    n = len(sides)
    longest = run = 0
    for i, s in enumerate(sides):
        run = run + 1 if i and s == sides[i - 1] else 1
        longest = max(longest, run)
    crossings = sum(1 for i in range(1, n) if sides[i] != sides[i - 1])
    longest_max = round(math.log2(n)) + 3 if n else 0
    crossings_min = _qbinom_half_05(n - 1) if n > 1 else 0
    best = steps = prev = 0  # longest run of points each higher (or each lower) than the one before
    for i in range(1, len(pts)):
        step = (pts[i][0] > pts[i - 1][0]) - (pts[i][0] < pts[i - 1][0])
        steps = steps + 1 if step and step == prev else (1 if step else 0)
        prev = step
        best = max(best, steps + 1 if steps else 0)
    signals = []
    if outside:
        signals.append("outside_limits")
    if n and longest > longest_max:
        signals.append("shift")
    if n > 1 and crossings < crossings_min:
        signals.append("crossings")
    if best >= 6:
        signals.append("trend")
    return {"chart_signals": sorted(signals), "n_points": len(pts), "n_useful": n, "n_outside_limits": outside,
            "longest_run": longest, "longest_run_max": longest_max, "crossings": crossings,
            "crossings_min": crossings_min, "longest_trend": best}


def capstone_chart_facts(namespace: dict) -> dict | None:
    """Facts for the capstone rubric from the learner's `p_limits`; None when there is nothing to read."""
    import pandas

    df = namespace.get("p_limits")
    if type(df) is not pandas.DataFrame or not {"p", "cl", "lcl", "ucl"} <= set(map(str, df.columns)):
        return None
    if not 0 < len(df) <= MAX_POINTS:
        return None
    try:
        cols = [[float(v) for v in pandas.to_numeric(df[c], errors="coerce").tolist()] for c in ("p", "cl", "lcl", "ucl")]
    except (TypeError, ValueError):
        return None
    facts = chart_signals(*cols)
    facts.update(chart_type="p", source="p_limits")
    return facts


def capstone_equity_facts(namespace: dict) -> dict | None:
    """The equity gap from the learner's `equity_percent` (Question 8: % within 60 minutes by IMD quintile,
    columns `before` and `after`): the gap between the most deprived (1) and least deprived (5) quintiles before
    and after, and whether it widened, narrowed or stayed level. None when there is nothing to read."""
    import pandas

    df = namespace.get("equity_percent")
    if type(df) is not pandas.DataFrame or not {"before", "after"} <= set(map(str, df.columns)):
        return None
    try:
        idx = [int(i) for i in df.index]
        rows = {i: (float(df.loc[k, "before"]), float(df.loc[k, "after"])) for i, k in zip(idx, df.index)}
    except (TypeError, ValueError, KeyError):
        return None
    if 1 not in rows or 5 not in rows or not all(math.isfinite(v) for pair in (rows[1], rows[5]) for v in pair):
        return None
    before = rows[5][0] - rows[1][0]  # quintile 5 minus quintile 1, as m8 defines equity_gap_after
    after = rows[5][1] - rows[1][1]
    from qicourse.rubric.detectors import gap_change

    change = gap_change({"equity_gap_before": before, "equity_gap_after": after})
    return {"equity_gap_before": round(before, 1), "equity_gap_after": round(after, 1), "equity_gap_change": change}


def capstone_facts(namespace: dict) -> dict | None:
    """Chart facts (`p_limits`) and equity facts (`equity_percent`) for the capstone; None when neither is readable."""
    out = {}
    for probe in (capstone_chart_facts, capstone_equity_facts):
        found = probe(namespace)
        if found:
            out.update(found)
    return out or None


#: rubric id -> probe run on the learner's namespace after the notebook's last cell
PROBES = {"capstone": capstone_facts}


def run_probes(names: list[str], namespace: dict) -> dict:
    """{rubric id: facts} for the probes that found something; a probe that fails gives no facts."""
    out = {}
    for name in names:
        probe = PROBES.get(name)
        if probe is None:
            continue
        try:
            facts = probe(namespace)
        except Exception:  # learner objects can raise anything; the marker then works without facts
            facts = None
        if facts is not None:
            out[name] = facts
    return out
