"""``qic()``: centre lines, limits and signals for run and control charts.

The calculations follow qicharts2's ``qic()`` (Anhøj; limits after Montgomery, *Introduction to
Statistical Quality Control*) and, for ``rules="mdc"``, NHS England's Making Data Count as
implemented by NHSRplotthedots. No plotting here: see :mod:`qicourse.charts.plot`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .rules import RULE_LABELS, RULE_SETS, point_rules
from .runs import anhoej_limits, count_runs, ihi_runs_limits

__all__ = ["CHARTS", "DIRECTIONS", "QicResult", "ShortSeriesWarning", "assurance_type", "qic"]

CHARTS = ("run", "i", "mr", "p", "u", "c", "g", "t")
DIRECTIONS = ("increase", "decrease", "neutral", None)
D2 = 1.128  # bias constant of a moving range of 2 (Montgomery table VI)
D4 = 3.267  # MR chart upper limit factor for ranges of 2
E2_MDC = 2.66  # Making Data Count uses 2.66 exactly; 3 / 1.128 = 2.6596 elsewhere
MDC_CHARTS = ("i", "p", "u", "c", "t")
SHORT_SERIES = 12  # NHSRplotthedots ptd_spc.warning_threshold


class ShortSeriesWarning(UserWarning):
    """A phase has fewer than 12 points: its limits are trial limits (as NHSRplotthedots warns)."""


@dataclass
class QicResult:
    """What :func:`qic` computed. Plotting it never changes it.

    ``points`` has one row per input value, in input order, with columns:
    ``x``, ``y`` (plotted value, after ``multiply``; the moving range on an MR chart), ``n``
    (denominator or NaN), ``cl``, ``ucl``, ``lcl`` (per point: they step where subgroup sizes
    or phases change; NaN on run charts), ``ucl2``/``lcl2`` (the 2-sigma band), ``target``,
    ``phase`` (1, 2, ...), ``baseline`` (used for the centre and limits), ``excluded`` (left out
    of the calculations by ``exclude`` but still tested), ``skipped`` (missing value, not
    analysed), ``signal`` (bool), ``rule`` (the highest-priority rule that fired, "" if none),
    ``rules`` (every rule that fired, ";"-separated, no duplicates), ``runs_signal`` (the phase's
    runs test fired: a verdict on the whole phase, shown on the centre line) and ``variation``
    (``common_cause``, ``improvement``, ``concern``, ``neutral_high`` or ``neutral_low``).
    """

    points: pd.DataFrame
    """per-point values, lines and signals (see class docstring)"""
    summary: dict
    """the last phase's summary plus ``variation_icon`` and ``assurance`` (see ``phases``)"""
    phases: list[dict]
    """one summary per phase: n_obs, n_useful, runs, crossings, longest_run, their limits,
    runs_signal and runs_rules (which runs tests fired), signals, last cl/ucl/lcl"""
    chart: str
    """chart type: run, i, mr, p, u, c, g or t"""
    rules: str
    """rule set used: anhoej, ihi, mdc or shewhart"""
    direction: str | None = None
    """improvement direction: increase, decrease, neutral or None"""
    notes: list[str] = field(default_factory=list)
    """plain-language notes: skipped values, ignored options, short phases"""
    skipped: list[int] = field(default_factory=list)
    """0-based positions of missing values (not analysed, left as gaps)"""

    @property
    def signals(self) -> pd.DataFrame:
        """Only the points with a signal."""
        return self.points[self.points["signal"]]

    def rule_label(self, rule: str) -> str:
        """Readable name of a rule, e.g. for a legend."""
        return RULE_LABELS.get(rule, rule)

    def explain(self) -> str:
        """A few plain sentences per phase: the counts, their limits and which rules fired."""
        centre = "median" if self.chart in ("run", "g") else "mean"
        lines = [f"{self.chart.upper() if self.chart != 'run' else 'Run'} chart, rules: {self.rules}."]
        for ph in self.phases:
            head = f"Phase {ph['phase']}: " if len(self.phases) > 1 else ""
            lines.append(
                f"{head}{ph['n_obs']} points, {ph['n_useful']} not on the {centre} ({ph['cl']:.4g}); "
                f"longest run {ph['longest_run']} (Anhøj limit {ph['longest_run_max']}), "
                f"crossings {ph['crossings']} (Anhøj minimum {ph['crossings_min']}), "
                f"runs {ph['runs']} (IHI range {ph['runs_min']}-{ph['runs_max']})."
            )
            sel = self.points.iloc[ph["first"] : ph["last"] + 1]
            fired = sel.loc[sel["signal"], "rule"].value_counts()
            found = [f"{RULE_LABELS[r]}: {k} point(s)" for r, k in fired.items()]
            found += [RULE_LABELS[r] for r in ph["runs_rules"] if r not in fired.index]
            lines.append("  Signals: " + "; ".join(found) + "." if found else "  No signals: common cause variation only.")
        return "\n".join(lines)


def _as_float_array(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(pd.to_numeric(pd.Series(values), errors="raise"), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from None
    return arr


def _positions(value, n: int, name: str) -> np.ndarray:
    """Boolean mask from 0-based positions (or a boolean mask of length n)."""
    mask = np.zeros(n, bool)
    if value is None:
        return mask
    arr = np.atleast_1d(np.asarray(value))
    if arr.dtype == bool:
        if arr.size != n:
            raise ValueError(f"{name} as a boolean mask must have length {n}, not {arr.size}")
        return arr.copy()
    if arr.size == 0:
        return mask
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be 0-based integer positions or a boolean mask")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{name} positions must be between 0 and {n - 1}")
    mask[arr] = True
    return mask


def _phases(part, n: int) -> np.ndarray:
    """Phase number (1, 2, ...) per position; ``part`` lists where new phases start."""
    if part is None:
        return np.ones(n, int)
    breaks = np.atleast_1d(np.asarray(part))
    if breaks.size and not np.issubdtype(breaks.dtype, np.integer):
        raise ValueError("part must be integer positions where new phases start")
    if breaks.size and (breaks.min() <= 0 or breaks.max() >= n):
        raise ValueError(f"part positions must be between 1 and {n - 1}")
    phase = np.ones(n, int)
    for b in np.unique(breaks):
        phase[b:] += 1
    return phase


def _validate(chart, rules, direction, y, n, x, multiply, target):
    if chart not in CHARTS:
        raise ValueError(f"unknown chart {chart!r}; choose one of {', '.join(CHARTS)}")
    if rules is None:
        rules = "anhoej"
    if rules not in RULE_SETS:
        raise ValueError(f"unknown rules {rules!r}; choose one of {', '.join(RULE_SETS)}")
    if chart == "run" and rules in ("shewhart", "mdc"):
        raise ValueError(f"rules={rules!r} needs control limits; use a control chart (e.g. chart='i')")
    if rules == "mdc" and chart not in MDC_CHARTS:
        raise ValueError(f"rules='mdc' applies to charts {', '.join(MDC_CHARTS)}, not {chart!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; use 'increase', 'decrease' or 'neutral'")
    if isinstance(multiply, bool) or not isinstance(multiply, (int, float, np.number)) or not multiply > 0:
        raise ValueError("multiply must be a positive number")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float, np.number))):
        raise ValueError(f"target must be a number, not {target!r}")
    if n is not None and len(n) != len(y):
        raise ValueError(f"y and n have different lengths ({len(y)} and {len(n)})")
    if x is not None and len(x) != len(y):
        raise ValueError(f"y and x have different lengths ({len(y)} and {len(x)})")
    if chart in ("p", "u") and n is None:
        raise ValueError(f"a {chart} chart needs denominators n")
    if chart in ("c", "g", "t", "mr") and n is not None:
        raise ValueError(f"a {chart} chart takes counts or values only, not denominators n")
    return rules


def _check_counts(chart, y, n, ok):
    bad = np.flatnonzero(ok & (y < 0))
    if chart in ("p", "u", "c", "g") and bad.size:
        raise ValueError(f"negative counts at positions {bad.tolist()}")
    if chart == "t":
        bad = np.flatnonzero(ok & (y <= 0))
        if bad.size:
            raise ValueError(f"times between events must be > 0; see positions {bad.tolist()}")
    if n is not None:
        neg = np.flatnonzero(ok & (n < 0))
        if neg.size:
            raise ValueError(f"negative denominators at positions {neg.tolist()}")
        zero = np.flatnonzero(ok & (n == 0))
        if zero.size:
            raise ValueError(f"zero denominators at positions {zero.tolist()}")
        if chart == "p":
            over = np.flatnonzero(ok & (y > n))
            if over.size:
                raise ValueError(
                    f"numerator above denominator at positions {over.tolist()} (a p chart needs y <= n)"
                )


def _limits(chart, y, n, base, screen_mr, e2):
    """Centre, limits and sigma for one phase (arrays over the phase's analysed points).

    Returns (cl, ucl, lcl, sigma) where sigma is the unclipped 1-sigma distance used for the
    2-sigma band. ``base`` marks points used for the calculations (baseline, not excluded).
    """
    m = y.size
    ones = np.ones(m)
    if chart == "run":
        cl = np.median(y[base]) * ones
        nan = np.full(m, np.nan)
        return cl, nan, nan.copy(), nan.copy()
    if chart in ("i", "t"):
        v = y ** (1 / 3.6) if chart == "t" else y
        centre = v[base].mean()
        mr = np.abs(np.diff(v[base]))
        amr = mr.mean() if mr.size else np.nan
        if screen_mr and mr.size:
            mr = mr[mr < D4 * amr]  # Nelson 1982, as NHSRplotthedots screen_outliers
            amr = mr.mean() if mr.size else amr
        sigma = (e2 / 3) * amr * ones
        cl, ucl, lcl = centre * ones, centre + 3 * sigma, centre - 3 * sigma
        if chart == "i":
            return cl, ucl, lcl, sigma
        # t chart: back-transform (Montgomery; qicharts2 qic.t); LCL below 0 is set to 0
        back = lambda a: np.where(a > 0, np.abs(a) ** 3.6, 0.0)  # noqa: E731
        return back(cl), back(ucl), back(lcl), sigma
    if chart == "mr":
        cl = np.nanmean(y[base]) * ones
        return cl, D4 * cl, 0 * ones, np.full(m, np.nan)
    if chart == "p":
        pbar = (y * n)[base].sum() / n[base].sum()
        sigma = np.sqrt(pbar * (1 - pbar) / n)
        cl = pbar * ones
        return cl, np.minimum(cl + 3 * sigma, 1), np.maximum(cl - 3 * sigma, 0), sigma
    if chart == "u":
        ubar = (y * n)[base].sum() / n[base].sum()
        sigma = np.sqrt(ubar / n)
        cl = ubar * ones
        return cl, cl + 3 * sigma, np.maximum(cl - 3 * sigma, 0), sigma
    if chart == "c":
        cbar = y[base].mean()
        sigma = np.sqrt(cbar) * ones
        cl = cbar * ones
        return cl, cl + 3 * sigma, np.maximum(cl - 3 * sigma, 0), sigma
    if chart == "g":
        gbar = y[base].mean()
        sigma = np.sqrt(gbar * (gbar + 1)) * ones  # Montgomery p. 319 (geometric)
        ucl = gbar + 3 * sigma
        lcl = np.maximum(gbar - 3 * sigma, 0)
        return np.median(y[base]) * ones, ucl, lcl, sigma
    raise AssertionError(chart)  # unreachable: chart validated


def qic(
    y,
    n=None,
    x=None,
    chart: str = "run",
    rules: str | None = None,
    freeze: int | None = None,
    part=None,
    exclude=None,
    target: float | None = None,
    multiply: float = 1,
    direction: str | None = None,
    screen_mr: bool = False,
) -> QicResult:
    """Run or control chart calculations in the spirit of qicharts2's ``qic()``.

    Parameters
    ----------
    y : values, or numerators when ``n`` is given (counts for c charts, units or days between
        events for g and t charts).
    n : denominators (p and u charts; optional for run and i charts, which then plot y / n).
    x : x axis (dates or labels); default 1..len(y).
    chart : ``run`` (median), ``i`` (XmR individuals), ``mr``, ``p``, ``u``, ``c``, ``g``, ``t``.
    rules : ``anhoej`` (default, qicharts2), ``ihi`` (Perla et al. 2011), ``mdc`` (Making Data
        Count) or ``shewhart`` (3-sigma only). On control charts a point outside the limits is
        always a signal. See ``RULES.md`` for exact definitions.
    freeze : the first ``freeze`` points (positions 0..freeze-1) are the baseline: each phase's
        centre and limits come from its baseline points and extend over the whole phase; a
        phase with no baseline points (a later ``part``) uses all its own points.
    part : positions (0-based) where a new phase starts; each phase gets its own centre and
        limits. ``part=[30]`` is qicharts2's ``part = 30``.
    exclude : 0-based positions (or a boolean mask) left out of the centre and limit
        calculations but still plotted and tested. qicharts2's ``exclude = c(15, 23)`` is
        ``exclude=[14, 22]`` here.
    target : a target line in the plotted units (after ``multiply``); with ``direction`` it
        gives the MDC assurance verdict.
    multiply : scales y, centre and limits (100 for percent, 1000 for per 1,000 bed days).
    direction : ``increase`` or ``decrease`` (which way is better) or ``neutral``/None;
        classifies signals as improvement or concern.
    screen_mr : drop moving ranges >= 3.267 x MR-bar before recomputing MR-bar (i and t charts;
        Nelson 1982). NHSRplotthedots screens by default; the MDC Excel tools and Montgomery do
        not, so the default here is False.

    Missing values (NaN in y or n) are skipped: kept as gaps in ``points``, listed in
    ``skipped`` and ``notes``. A phase with fewer than 12 analysed points raises a
    :class:`ShortSeriesWarning` (its limits are trial limits).
    """
    y_in = _as_float_array(y, "y")
    n_in = None if n is None else _as_float_array(n, "n")
    rules = _validate(chart, rules, direction, y_in, n_in, x, multiply, target)
    total = y_in.size
    if total == 0:
        raise ValueError("y is empty")
    if np.isinf(y_in).any() or (n_in is not None and np.isinf(n_in).any()):
        raise ValueError("y and n must be finite numbers (found an infinite value)")
    ok = ~np.isnan(y_in)
    if n_in is not None:
        ok &= ~np.isnan(n_in)
    _check_counts(chart, y_in, n_in, ok)
    if ok.sum() < 2:
        raise ValueError(f"at least 2 non-missing values are needed, got {int(ok.sum())}")
    if freeze is not None and (not isinstance(freeze, (int, np.integer)) or not 2 <= freeze <= total):
        raise ValueError(f"freeze must be a whole number of points between 2 and {total}")

    values = y_in / n_in if n_in is not None else y_in.copy()
    excluded = _positions(exclude, total, "exclude")
    phase = _phases(part, total)
    baseline = np.ones(total, bool) if freeze is None else np.arange(total) < freeze
    notes: list[str] = []
    skipped = np.flatnonzero(~ok).tolist()
    if skipped:
        notes.append(f"{len(skipped)} missing value(s) skipped at positions {skipped}")
    if chart == "mr":
        # moving ranges between successive analysed points of a phase; a phase's first has none
        mr = np.full(total, np.nan)
        for ph in np.unique(phase):
            idx = np.flatnonzero((phase == ph) & ok)
            mr[idx[1:]] = np.abs(np.diff(values[idx]))
        values = mr
        ok = ok & ~np.isnan(values)
    e2 = E2_MDC if rules == "mdc" else 3 / D2
    point_rule_names = RULE_SETS[rules] if chart != "mr" else ("outside_limits",)
    if chart == "run":
        point_rule_names = tuple(r for r in point_rule_names if r != "outside_limits")

    cols = {k: np.full(total, np.nan) for k in ("cl", "ucl", "lcl", "ucl2", "lcl2")}
    signal = np.zeros(total, bool)
    rule = np.array([""] * total, dtype=object)
    rules_col = np.array([""] * total, dtype=object)
    side = np.zeros(total, int)
    runs_signal = np.zeros(total, bool)
    used = np.zeros(total, bool)
    phase_summaries = []
    for ph in np.unique(phase):
        idx = np.flatnonzero((phase == ph) & ok)
        if idx.size == 0:
            notes.append(f"phase {ph} has no values")
            continue
        base_local = baseline[idx] & ~excluded[idx]
        if not base_local.any():
            base_local = ~excluded[idx]
        if not base_local.any():
            raise ValueError(f"phase {ph}: every point is excluded, so no centre line can be computed")
        if chart in ("i", "t") and base_local.sum() < 2:
            raise ValueError(f"phase {ph}: an {chart} chart needs at least 2 baseline points")
        if idx.size < SHORT_SERIES:
            warnings.warn(
                f"phase {ph} has {idx.size} points (< {SHORT_SERIES}): limits are trial limits",
                ShortSeriesWarning,
                stacklevel=2,
            )
            notes.append(f"phase {ph} has fewer than {SHORT_SERIES} points; treat limits as trial limits")
        used[idx[base_local]] = True
        yv = values[idx]
        nv = None if n_in is None else n_in[idx]
        cl, ucl, lcl, sigma = _limits(chart, yv, nv, base_local, screen_mr, e2)
        if chart == "t":
            # 2-sigma band computed on the transformed scale, then back-transformed
            tc = cl ** (1 / 3.6)
            ucl2, lcl2 = (tc + 2 * sigma) ** 3.6, np.where(tc - 2 * sigma > 0, np.abs(tc - 2 * sigma) ** 3.6, 0)
        elif chart == "mr":
            ucl2, lcl2 = 2 * D4 / 3 * cl, 0 * cl  # qicharts2 qic.mr
        elif chart == "g":
            gbar = values[idx][base_local].mean()
            ucl2, lcl2 = gbar + 2 * sigma, np.maximum(gbar - 2 * sigma, 0)
        else:
            ucl2, lcl2 = cl + 2 * sigma, cl - 2 * sigma
            if chart == "p":
                ucl2, lcl2 = np.minimum(ucl2, 1), np.maximum(lcl2, 0)
            elif chart in ("u", "c"):
                lcl2 = np.maximum(lcl2, 0)
        for k, v in zip(("cl", "ucl", "lcl", "ucl2", "lcl2"), (cl, ucl, lcl, ucl2, lcl2)):
            cols[k][idx] = v

        counts = count_runs(yv, cl)
        lrmax, cmin = anhoej_limits(counts["n_useful"])
        rmin, rmax = ihi_runs_limits(counts["n_useful"])
        runs_rules = []
        if chart != "mr" and counts["n_useful"] > 0:
            if rules == "anhoej":
                if counts["longest_run"] > lrmax:
                    runs_rules.append("anhoej_long_run")
                if counts["crossings"] < cmin:
                    runs_rules.append("anhoej_few_crossings")
            elif rules == "ihi":
                if counts["runs"] < rmin:
                    runs_rules.append("ihi_too_few_runs")
                if counts["runs"] > rmax:
                    runs_rules.append("ihi_too_many_runs")
        ph_runs_signal = bool(runs_rules)
        runs_signal[idx] = ph_runs_signal

        fired = []
        for name in point_rule_names:
            flag, sd = point_rules(name, yv, cl, ucl, lcl, ucl2, lcl2, lrmax)
            fired.append((name, flag, sd))
        ph_rule = np.array([""] * idx.size, dtype=object)
        ph_rules = [[] for _ in range(idx.size)]
        ph_side = np.zeros(idx.size, int)
        for name, flag, sd in fired:
            new = flag & (ph_rule == "")
            ph_rule[new] = name
            ph_side[new] = sd[new]
            for j in np.flatnonzero(flag):
                ph_rules[j].append(name)
        rule[idx] = ph_rule
        rules_col[idx] = [";".join(r) for r in ph_rules]
        side[idx] = ph_side
        signal[idx] = ph_rule != ""
        last = idx[-1]
        phase_summaries.append(
            {
                "phase": int(ph),
                "n_obs": int(idx.size),
                "n_baseline": int(base_local.sum()),
                "n_useful": counts["n_useful"],
                "runs": counts["runs"],
                "crossings": counts["crossings"],
                "longest_run": counts["longest_run"],
                "longest_run_max": lrmax,
                "crossings_min": cmin,
                "runs_min": rmin,
                "runs_max": rmax,
                "runs_signal": bool(ph_runs_signal),
                "runs_rules": runs_rules,
                "n_signals": int((ph_rule != "").sum()),
                "n_outside_limits": int(fired[0][1].sum()) if fired and fired[0][0] == "outside_limits" else 0,
                "cl": float(cl[-1]) * multiply,
                "ucl": float(ucl[-1]) * multiply,
                "lcl": float(lcl[-1]) * multiply,
                "first": int(idx[0]),
                "last": int(last),
            }
        )

    if direction in ("increase", "decrease"):
        good = 1 if direction == "increase" else -1
        variation = np.where(side * good > 0, "improvement", "concern")
    else:
        variation = np.where(side > 0, "neutral_high", "neutral_low")
    variation = np.where(signal, variation, "common_cause")

    plotted = np.where(ok, values, np.nan) * multiply
    for k in cols:
        cols[k] = cols[k] * multiply
    if x is None:
        x_col = np.arange(1, total + 1)
    else:
        xs = pd.Series(list(x) if not isinstance(x, (pd.Series, pd.Index, np.ndarray)) else x)
        if pd.api.types.infer_dtype(xs, skipna=True) in ("date", "datetime", "datetime64"):
            xs = pd.to_datetime(xs)
        x_col = xs.to_numpy()
    points = pd.DataFrame(
        {
            "x": x_col,
            "y": plotted,
            "n": n_in if n_in is not None else np.full(total, np.nan),
            **cols,
            "target": np.full(total, np.nan if target is None else float(target)),
            "phase": phase,
            "baseline": used,
            "excluded": excluded,
            "skipped": ~ok,
            "signal": signal,
            "rule": rule.astype(str),
            "rules": rules_col.astype(str),
            "runs_signal": runs_signal,
            "variation": variation.astype(str),
        }
    )
    if not phase_summaries:
        raise ValueError("no phase has any values")
    summary = dict(phase_summaries[-1])
    summary.update(
        chart=chart,
        rules=rules,
        direction=direction,
        n_phases=len(phase_summaries),
        n_signals_total=int(signal.sum()),
        variation_icon=_variation_icon(points, direction),
        assurance=_assurance(points, target, direction),
    )
    return QicResult(
        points=points,
        summary=summary,
        phases=phase_summaries,
        chart=chart,
        rules=rules,
        direction=direction,
        notes=notes,
        skipped=skipped,
    )


def _variation_icon(points: pd.DataFrame, direction) -> str:
    """MDC variation icon from the last analysed point (NHSRplotthedots icon names)."""
    last = points[~points["skipped"]].iloc[-1]
    v = last["variation"]
    if v == "common_cause":
        return "common_cause"
    if v.startswith("neutral"):
        return v
    high = (v == "improvement") == (direction == "increase")
    return f"{v}_{'high' if high else 'low'}"


def _assurance(points: pd.DataFrame, target, direction) -> str | None:
    last = points[~points["skipped"]].iloc[-1]
    return assurance_type(target, last["lcl"], last["ucl"], direction)


def assurance_type(target, lcl, ucl, direction) -> str | None:
    """MDC assurance: can the process be relied on to meet the target? (NHSRplotthedots
    ``ptd_calculate_assurance_type``, applied to the last point's limits).

    ``consistent_pass`` / ``consistent_fail`` when the target lies beyond the limits on the
    passing / failing side, ``inconsistent`` when it lies between them; None without a target,
    without limits, or when the direction is neutral.
    """
    if target is None or direction not in ("increase", "decrease"):
        return None
    if lcl is None or ucl is None or np.isnan(ucl) or np.isnan(lcl):
        return None
    if target > ucl:
        return "consistent_fail" if direction == "increase" else "consistent_pass"
    if target < lcl:
        return "consistent_pass" if direction == "increase" else "consistent_fail"
    return "inconsistent"
