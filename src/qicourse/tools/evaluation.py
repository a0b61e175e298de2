"""Evaluating a change: segmented regression, stratification and regression to the mean.

Small, transparent implementations (numpy and pandas only) so learners can see every step.

- Segmented regression of an interrupted time series, after Wagner AK, Soumerai SB, Zhang F,
  Ross-Degnan D. Segmented regression analysis of interrupted time series studies in medication
  use research. J Clin Pharm Ther 2002;27:299-309, and Lopez Bernal J, Cummins S, Gasparrini A.
  Interrupted time series regression for the evaluation of public health interventions: a
  tutorial. Int J Epidemiol 2017;46:348-55. Ordinary least squares only: no adjustment for
  autocorrelation or seasonality, which the lesson says aloud. Checked against the published
  California Proposition 99 example (Linden A. Stata J 2015;15:480-500), data in
  `tests/reference/its_california_cigsales.csv`.
- Regression to the mean, after Barnett AG, van der Pols JC, Dobson AJ. Regression to the mean:
  what it is and how to deal with it. Int J Epidemiol 2005;34:215-20.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class SegmentedFit:
    """Coefficients of y = b0 + b1*time + b2*after + b3*time_after (Wagner et al. 2002)."""

    baseline_level: float
    """b0: the fitted value at time 0 (the first period)"""
    baseline_slope: float
    """b1: change per period before the intervention"""
    level_change: float
    """b2: jump at the intervention, beyond the baseline trend"""
    slope_change: float
    """b3: change in slope after the intervention"""
    std_errors: dict[str, float]
    """ordinary least-squares standard errors (assume independent errors)"""
    fitted: np.ndarray = field(repr=False)
    counterfactual: np.ndarray = field(repr=False)
    """the baseline trend carried on, as if nothing had changed"""
    design: pd.DataFrame = field(repr=False)

    @property
    def coef(self) -> dict[str, float]:
        return {
            "baseline_level": self.baseline_level,
            "baseline_slope": self.baseline_slope,
            "level_change": self.level_change,
            "slope_change": self.slope_change,
        }


def segmented_design(n: int, break_index: int) -> pd.DataFrame:
    """Design matrix for `n` equally spaced periods with the change starting at `break_index`.

    Columns: const, time (0..n-1), after (0 before, 1 from the break), time_after (0 before,
    then 0, 1, 2, ... from the break).
    """
    if not isinstance(n, (int, np.integer)) or not isinstance(break_index, (int, np.integer)):
        raise ValueError("n and break_index must be whole numbers.")
    if break_index < 2 or n - break_index < 2:
        raise ValueError(
            f"Need at least 2 periods before and after the change (n={n}, break at {break_index});"
            " in practice use many more (8-12 a side is a common minimum)."
        )
    time = np.arange(n, dtype=float)
    after = (time >= break_index).astype(float)
    return pd.DataFrame({
        "const": 1.0,
        "time": time,
        "after": after,
        "time_after": np.where(after == 1, time - break_index, 0.0),
    })


def segmented_regression(y, break_index: int) -> SegmentedFit:
    """Fit a simple interrupted time series by least squares (`numpy.linalg.lstsq`).

    `y` holds one value per period in time order (e.g. weekly medians); `break_index` is the
    position of the first period after the change.
    """
    y = np.asarray(pd.Series(y, dtype=float), dtype=float)
    if np.isnan(y).any():
        raise ValueError("y has missing values; drop or fill empty periods first.")
    design = segmented_design(len(y), break_index)
    x = design.to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    fitted = x @ beta
    dof = len(y) - x.shape[1]
    sigma2 = float(((y - fitted) ** 2).sum() / dof) if dof > 0 else float("nan")
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    names = ["baseline_level", "baseline_slope", "level_change", "slope_change"]
    return SegmentedFit(
        *map(float, beta),
        std_errors={k: float(math.sqrt(v)) if v >= 0 else float("nan")
                    for k, v in zip(names, np.diag(cov))},
        fitted=fitted,
        counterfactual=beta[0] + beta[1] * design["time"].to_numpy(),
        design=design,
    )


def stratify(df: pd.DataFrame, by: str | list[str], value: str, stat: str = "median") -> pd.DataFrame:
    """Summary of `value` per group: n and the chosen statistic (median by default).

    Groups with no rows are kept (n = 0) so a missing group is visible, not silently dropped.
    """
    by_list = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by_list, value] if c not in df.columns]
    if missing:
        raise ValueError(f"Column(s) {missing} not in the data; available: {list(df.columns)}.")
    if stat not in {"median", "mean"}:
        raise ValueError("stat must be 'median' or 'mean'.")
    grouped = df.groupby(by_list, observed=False)[value]
    out = pd.DataFrame({"n": grouped.count(), stat: grouped.agg(stat)})
    out["n"] = out["n"].astype(int)
    return out


def gap(summary: pd.DataFrame, group_a, group_b, column: str = "median") -> float:
    """Difference `group_a - group_b` in a `stratify` table (e.g. most minus least deprived)."""
    for g in (group_a, group_b):
        if g not in summary.index:
            raise ValueError(f"Group {g!r} not in the table; groups: {list(summary.index)}.")
    return float(summary.loc[group_a, column] - summary.loc[group_b, column])


def before_after_by_group(
    df: pd.DataFrame, by: str, value: str, after: pd.Series, stat: str = "median"
) -> pd.DataFrame:
    """Per group: the statistic before and after a change and the difference (after - before).

    `after` is a boolean Series aligned with `df` (True for rows after the change).
    """
    after = pd.Series(after, index=df.index).astype(bool)
    before_t = stratify(df[~after], by, value, stat)[stat].rename("before")
    after_t = stratify(df[after], by, value, stat)[stat].rename("after")
    out = pd.concat([before_t, after_t], axis=1)
    out["change"] = out["after"] - out["before"]
    return out


@dataclass
class RTMSimulation:
    """One regression-to-the-mean experiment: nobody is treated, yet the selected group 'improves'."""

    first: np.ndarray = field(repr=False)
    second: np.ndarray = field(repr=False)
    selected: np.ndarray = field(repr=False)
    cutoff: float
    selected_before: float
    """mean first measurement of the units picked for being high"""
    selected_after: float
    """their mean second measurement (no intervention in between)"""
    everyone_before: float
    everyone_after: float

    @property
    def apparent_improvement(self) -> float:
        return self.selected_before - self.selected_after


def simulate_regression_to_mean(
    n_units: int = 200,
    mean: float = 10.0,
    between_sd: float = 2.0,
    within_sd: float = 2.0,
    select_top: float = 0.2,
    seed: int | None = 0,
) -> RTMSimulation:
    """Measure `n_units` twice with no change in between; select the worst `select_top` share
    on the first measurement (as a project picks the worst wards or months to "fix").

    Each unit has a true level ~ N(mean, between_sd) and each measurement adds N(0, within_sd).
    """
    if n_units < 2:
        raise ValueError("n_units must be at least 2.")
    if not 0 < select_top <= 1:
        raise ValueError("select_top must be a share between 0 and 1 (e.g. 0.2 for the top 20%).")
    if between_sd < 0 or within_sd < 0:
        raise ValueError("Standard deviations cannot be negative.")
    rng = np.random.default_rng(seed)
    true = rng.normal(mean, between_sd, n_units)
    first = true + rng.normal(0, within_sd, n_units)
    second = true + rng.normal(0, within_sd, n_units)
    k = max(1, int(round(select_top * n_units)))
    cutoff = float(np.sort(first)[-k])
    selected = first >= cutoff
    return RTMSimulation(
        first=first, second=second, selected=selected, cutoff=cutoff,
        selected_before=float(first[selected].mean()),
        selected_after=float(second[selected].mean()),
        everyone_before=float(first.mean()),
        everyone_after=float(second.mean()),
    )


def expected_rtm_effect(mean: float, between_sd: float, within_sd: float, cutoff: float) -> float:
    """Expected fall in a group selected for a first value above `cutoff`, with no intervention.

    Barnett et al. 2005, equation for normal data: sigma_w^2 / sigma * phi(z) / (1 - Phi(z)),
    with sigma^2 = sigma_b^2 + sigma_w^2 and z = (cutoff - mean) / sigma.
    """
    sigma = math.sqrt(between_sd**2 + within_sd**2)
    if sigma == 0:
        return 0.0
    z = (cutoff - mean) / sigma
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    tail = 0.5 * math.erfc(z / math.sqrt(2))
    return within_sd**2 / sigma * phi / tail
