"""Measurement for improvement: the family of measures, operational definitions, rates, safety crosses.

A QI project tracks a small family of measures (ideally 5-8): one or two outcome measures tied to
the aim, a few process measures showing whether the changes are happening, and one or two
balancing measures watching for harm elsewhere (Shah A. Using data for improvement.
BMJ 2019;364:l189). Each measure needs an operational definition precise enough that two
people counting the same ward get the same number. A safety cross is a month-shaped calendar on
the ward wall, a day coloured green without the event and red with it (Shah 2019, fig 3).
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

MEASURE_TYPES = ("outcome", "process", "balancing")


@dataclass(frozen=True)
class OperationalDefinition:
    """What exactly is counted, from where, by whom and how often, so the measure is reproducible."""

    name: str
    """the measure's short name, e.g. 'Falls per 1,000 occupied bed days'"""
    kind: str
    """'outcome', 'process' or 'balancing'"""
    numerator: str
    """what is counted, with the time stamps or fields that decide it"""
    denominator: str | None
    """what it is divided by (None only for a plain count or a time)"""
    inclusions: str = ""
    """which patients, wards or events are in"""
    exclusions: str = ""
    """which are out, and why"""
    data_source: str = ""
    """where the data come from (e.g. Datix, e-observations, PAS)"""
    collected_by: str = ""
    """who collects them"""
    frequency: str = ""
    """how often and how (sample or all patients), e.g. 'daily, every patient'"""
    display: str = ""
    """how it will be shown, e.g. 'weekly run chart on the ward board'"""
    direction: str = ""
    """'increase' or 'decrease': which way is better"""
    notes: list[str] = field(default_factory=list)
    """anything else (known gaps in the data, changes of definition)"""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("An operational definition needs a name.")
        if self.kind not in MEASURE_TYPES:
            raise ValueError(f"kind must be one of {', '.join(MEASURE_TYPES)}, not {self.kind!r}.")
        if not isinstance(self.numerator, str) or not self.numerator.strip():
            raise ValueError(f"{self.name}: say exactly what is counted (numerator).")
        if self.direction not in ("", "increase", "decrease"):
            raise ValueError(f"{self.name}: direction must be 'increase', 'decrease' or empty.")

    def missing(self) -> list[str]:
        """Fields a data collection plan still needs filled in (empty list = complete)."""
        wanted = ["inclusions", "data_source", "collected_by", "frequency", "display", "direction"]
        return [f for f in wanted if not str(getattr(self, f)).strip()]

    def to_dict(self) -> dict:
        return asdict(self)


def collection_plan(definitions: list[OperationalDefinition]) -> pd.DataFrame:
    """A data collection plan: one row per measure, outcome first, then process, then balancing."""
    if not definitions:
        raise ValueError("A data collection plan needs at least one measure.")
    rows = [d.to_dict() for d in definitions]
    df = pd.DataFrame(rows).drop(columns=["notes"])
    df["kind"] = pd.Categorical(df["kind"], categories=list(MEASURE_TYPES), ordered=True)
    df = df.sort_values("kind", kind="stable").reset_index(drop=True)
    df["denominator"] = df["denominator"].fillna("(none)")
    return df


def family_problems(kinds: list[str] | dict[str, str]) -> list[str]:
    """What is wrong with a family of measures (empty list = balanced family).

    `kinds` is a list of measure types, or a dict {measure name: type}. Follows Shah (2019):
    at least one outcome, at least one process and at least one balancing measure, and a
    small family (no more than 8) that a ward team can keep up to date.
    """
    values = list(kinds.values()) if isinstance(kinds, dict) else list(kinds)
    bad = [k for k in values if k not in MEASURE_TYPES]
    if bad:
        raise ValueError(f"Unknown measure type(s) {bad!r}: use {', '.join(MEASURE_TYPES)}.")
    problems = []
    if "outcome" not in values:
        problems.append("No outcome measure: nothing shows whether patients are better off (the aim).")
    if "process" not in values:
        problems.append("No process measure: nothing shows whether the changes are actually happening.")
    if "balancing" not in values:
        problems.append("No balancing measure: nothing watches for harm the changes cause elsewhere.")
    if len(values) > 8:
        problems.append(f"{len(values)} measures is too many to keep up: pick the 5-8 that matter most.")
    return problems


def rate_per(events, exposure, per: float = 1000.0):
    """Events per `per` units of exposure, e.g. falls per 1,000 occupied bed days.

    Works on numbers or aligned pandas Series. A rate needs its denominator: raw counts rise and
    fall with how busy the ward is. Zero or negative exposure is an error, not a silent inf.
    """
    exp = np.asarray(exposure, dtype=float)
    ev = np.asarray(events, dtype=float)
    if np.any(np.isnan(exp)) or np.any(exp <= 0):
        raise ValueError("Exposure (e.g. occupied bed days) must be positive for every period.")
    if np.any(ev < 0):
        raise ValueError("Event counts cannot be negative.")
    out = ev / exp * per
    if isinstance(events, pd.Series):
        return pd.Series(out, index=events.index, name=f"rate_per_{per:g}")
    return float(out) if np.ndim(out) == 0 else out


# Cells of the safety cross: (row, column) for days 1..31, a Latin cross 6 wide and 12 tall.
_CROSS_CELLS = (
    [(r, c) for r in (0, 1) for c in (2, 3)]
    + [(r, c) for r in (2, 3) for c in range(6)]
    + [(r, c) for r in range(4, 12) for c in (2, 3)]
)[:31]


def safety_cross_data(dates, events, year: int, month: int) -> pd.DataFrame:
    """Days of one month with their event count: columns `day`, `date`, `events`, `recorded`.

    `dates` and `events` are aligned (one row per day, or per event with events=1); several rows
    on one day are added up. Days with no row are `recorded=False` (not yet filled in / no data),
    which is not the same as a day without harm.
    """
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month must be 1-12, not {month!r}.")
    s = pd.Series(np.asarray(events, dtype=float), index=pd.to_datetime(pd.Index(dates)))
    if s.isna().any():
        raise ValueError("Event counts must not be missing; leave the day out if it was not recorded.")
    n_days = calendar.monthrange(int(year), int(month))[1]
    days = pd.date_range(f"{int(year)}-{int(month):02d}-01", periods=n_days, freq="D")
    in_month = s[(s.index >= days[0]) & (s.index < days[-1] + pd.Timedelta(days=1))]
    per_day = in_month.groupby(in_month.index.normalize()).sum()
    out = pd.DataFrame({"day": np.arange(1, n_days + 1), "date": days})
    out["recorded"] = out["date"].isin(per_day.index)
    out["events"] = out["date"].map(per_day).fillna(0).astype(int)
    return out


def safety_cross_figure(data: pd.DataFrame, event_label: str = "fall", title: str | None = None) -> Figure:
    """Draw a safety cross from `safety_cross_data`: green = no event, red = one or more, white = no data.

    The count is written in red days with more than one event, so the cross shows both how many
    days had harm and how many events there were.
    """
    needed = {"day", "events", "recorded", "date"}
    if not needed <= set(data.columns):
        raise ValueError(f"Safety cross data need columns {sorted(needed)}; use safety_cross_data().")
    fig, ax = plt.subplots(figsize=(4.6, 7.2))
    for _, row in data.iterrows():
        r, c = _CROSS_CELLS[int(row["day"]) - 1]
        if not row["recorded"]:
            colour = "white"
        elif row["events"] > 0:
            colour = "#d7191c"
        else:
            colour = "#1a9641"
        ax.add_patch(Rectangle((c, -r - 1), 1, 1, facecolor=colour, edgecolor="black", linewidth=1))
        label = str(int(row["day"]))
        if row["recorded"] and row["events"] > 1:
            label += f"\n({int(row['events'])})"
        ax.text(c + 0.5, -r - 0.5, label, ha="center", va="center", fontsize=9,
                color="black" if colour == "white" else "white", fontweight="bold")
    ax.set_xlim(-0.2, 6.2)
    ax.set_ylim(-12.2, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    recorded = data[data["recorded"]]
    harm_days = int((recorded["events"] > 0).sum())
    month_name = pd.Timestamp(data["date"].iloc[0]).strftime("%B %Y")
    ax.set_title(title or f"Safety cross: {event_label}s, {month_name}\n"
                 f"{harm_days} of {len(recorded)} recorded days with a {event_label} "
                 f"({int(recorded['events'].sum())} in total)", fontsize=10)
    fig.legend(
        handles=[Patch(facecolor="#1a9641", edgecolor="black", label=f"day without a {event_label}"),
                 Patch(facecolor="#d7191c", edgecolor="black", label=f"day with a {event_label} (count if >1)"),
                 Patch(facecolor="white", edgecolor="black", label="not recorded")],
        loc="lower center", fontsize=8, frameon=False, ncol=1,
    )
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.12)
    return fig
