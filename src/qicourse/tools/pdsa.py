"""A PDSA (plan-do-study-act) log that checks itself.

Why a data structure: the commonest ways PDSA goes wrong in practice are visible in the record —
no prediction written down before the test, "Study" skipped, cycles whose dates make no sense,
and decisions that ignore the data (adopting a change that did not help, abandoning one that did).
See Leis JA, Shojania KG. A primer on PDSA: executing plan-do-study-act cycles in practice, not
just in name. BMJ Qual Saf 2017;26:572-7, and Langley GJ et al. The Improvement Guide, 2nd ed,
2009 (the Model for Improvement and the PDSA worksheet).

Usage::

    log = PDSALog(measure="median minutes to antibiotics", direction="decrease", min_change=5)
    log.add_cycle(change="Sepsis trolley on AMU", planned="2024-03-01", prediction="Median falls
                  from 70 to 60 minutes", predicted_value=60, start="2024-03-04", end="2024-03-17",
                  studied="2024-03-18", baseline_value=70, result_value=58,
                  learning="Trolley used on 9 of 10 shifts", decision="adopt")
    log.problems()   # [] when the log is consistent
    log.check()      # raises ValueError listing every problem
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

DECISIONS = ("adopt", "adapt", "abandon")
DIRECTIONS = ("increase", "decrease")

# What each kind of result allows. Adapt is always open (a team may refine a change that worked,
# or try a variant of one that did not); adopting without improvement, or abandoning a change
# that clearly helped, contradicts the data.
ALLOWED_DECISIONS = {
    "met_prediction": {"adopt", "adapt"},
    "improved": {"adopt", "adapt"},
    "no_change": {"adapt", "abandon"},
    "worse": {"adapt", "abandon"},
}


def _date(value: Any, what: str) -> pd.Timestamp:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{what} is missing: give a date such as '2024-03-01'.")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} is not a date: {value!r}.") from exc
    if pd.isna(ts):
        raise ValueError(f"{what} is not a date: {value!r}.")
    return ts.normalize()


def classify_result(
    baseline_value: float,
    result_value: float,
    predicted_value: float | None,
    direction: str,
    min_change: float,
) -> str:
    """Say what a cycle's data show: "met_prediction", "improved", "no_change" or "worse".

    A change smaller than `min_change` (the smallest difference the team agreed matters, in the
    measure's units) counts as no change, so one noisy week is not read as success or failure.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}.")
    if min_change < 0:
        raise ValueError("min_change must be zero or positive.")
    sign = 1.0 if direction == "increase" else -1.0
    gain = sign * (float(result_value) - float(baseline_value))
    if gain <= -min_change and gain < 0:
        return "worse"
    if gain < min_change or gain == 0:
        return "no_change"
    if predicted_value is not None and sign * (float(result_value) - float(predicted_value)) >= 0:
        return "met_prediction"
    return "improved"


@dataclass
class PDSACycle:
    """One test of change, recorded in the order it happens."""

    number: int
    """position in the ramp, from 1"""
    change: str
    """what was tested, on whom, where"""
    planned: pd.Timestamp
    """date the plan and the prediction were written down"""
    prediction: str
    """what the team expected to happen, in words, before the test"""
    predicted_value: float | None
    """the prediction as a value of the measure (None if only in words)"""
    start: pd.Timestamp
    """first day of Do"""
    end: pd.Timestamp
    """last day of Do"""
    studied: pd.Timestamp | None = None
    """date the results were compared with the prediction"""
    baseline_value: float | None = None
    """the measure before this cycle (e.g. the baseline median)"""
    result_value: float | None = None
    """the measure during this cycle"""
    learning: str = ""
    """what Study taught: result against prediction, and why"""
    decision: str | None = None
    """adopt, adapt or abandon"""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class PDSALog:
    """A ramp of PDSA cycles against one measure, with checks for the classic mistakes."""

    measure: str
    """the measure each cycle is judged on, with units"""
    direction: str
    """"increase" or "decrease": which way is better"""
    min_change: float = 0.0
    """smallest change in the measure the team treats as real (same units as the measure)"""
    aim: str = ""
    cycles: list[PDSACycle] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, not {self.direction!r}.")
        if self.min_change < 0:
            raise ValueError("min_change must be zero or positive.")

    def add_cycle(self, **fields: Any) -> PDSACycle:
        """Append a cycle from keyword fields (dates as strings or datetimes); returns it."""
        known = set(PDSACycle.__dataclass_fields__) - {"number"}
        unknown = set(fields) - known
        if unknown:
            raise ValueError(f"Unknown PDSA field(s): {sorted(unknown)}. Known: {sorted(known)}.")
        for name in ("change", "planned", "prediction", "start", "end"):
            if name not in fields:
                raise ValueError(f"A PDSA cycle needs '{name}'.")
        decision = fields.get("decision")
        if decision is not None:
            decision = str(decision).strip().lower()
            if decision not in DECISIONS:
                raise ValueError(f"decision must be one of {DECISIONS}, not {fields['decision']!r}.")
        studied = fields.get("studied")
        cycle = PDSACycle(
            number=len(self.cycles) + 1,
            change=str(fields["change"]),
            planned=_date(fields["planned"], "planned"),
            prediction=str(fields.get("prediction") or ""),
            predicted_value=_num(fields.get("predicted_value"), "predicted_value"),
            start=_date(fields["start"], "start"),
            end=_date(fields["end"], "end"),
            studied=None if studied is None else _date(studied, "studied"),
            baseline_value=_num(fields.get("baseline_value"), "baseline_value"),
            result_value=_num(fields.get("result_value"), "result_value"),
            learning=str(fields.get("learning") or ""),
            decision=decision,
        )
        self.cycles.append(cycle)
        return cycle

    @classmethod
    def from_records(cls, records: list[dict[str, Any]], **log_fields: Any) -> "PDSALog":
        """Build a log from a list of dicts (one per cycle, in order)."""
        log = cls(**log_fields)
        for rec in records:
            log.add_cycle(**{k: v for k, v in rec.items() if k != "number"})
        return log

    def outcome(self, cycle: PDSACycle) -> str | None:
        """What the cycle's data show (see `classify_result`); None before results exist."""
        if cycle.baseline_value is None or cycle.result_value is None:
            return None
        return classify_result(
            cycle.baseline_value, cycle.result_value, cycle.predicted_value,
            self.direction, self.min_change,
        )

    def problems(self) -> list[str]:
        """Every inconsistency in the log, as sentences that name the mistake (empty if none)."""
        out: list[str] = []
        previous: PDSACycle | None = None
        for c in self.cycles:
            tag = f"Cycle {c.number} ({c.change[:40]})"
            if not c.prediction.strip() and c.predicted_value is None:
                out.append(f"{tag}: no prediction. Write down what you expect before the test; "
                           "without it there is nothing to study.")
            if c.start < c.planned:
                out.append(f"{tag}: the prediction was written after the test started "
                           "(planned date is later than start date).")
            if c.end < c.start:
                out.append(f"{tag}: the test ends before it starts.")
            if c.studied is not None and c.studied < c.end:
                out.append(f"{tag}: results were studied before the test ended.")
            if c.studied is not None and c.studied < c.planned:
                out.append(f"{tag}: the prediction is dated after the results were studied.")
            if previous is not None and c.start < previous.end:
                out.append(f"{tag}: starts before cycle {previous.number} ends; a ramp tests one "
                           "change after another so each can be learnt from.")
            if previous is not None and previous.studied is not None and c.planned < previous.studied:
                out.append(f"{tag}: planned before cycle {previous.number} was studied, so its "
                           "plan cannot use what that cycle taught.")
            if c.decision is not None:
                if c.studied is None or c.result_value is None:
                    out.append(f"{tag}: a decision ({c.decision}) without studied results; "
                               "Study comes before Act.")
                if not c.learning.strip():
                    out.append(f"{tag}: no learning recorded; say how the result compared with "
                               "the prediction before deciding.")
                result = self.outcome(c)
                if result is not None and c.decision not in ALLOWED_DECISIONS[result]:
                    out.append(f"{tag}: decision '{c.decision}' does not fit the data "
                               f"({_describe(result)}).")
            previous = c
        return out

    def check(self) -> None:
        """Raise ValueError listing every problem; return None if the log is consistent."""
        found = self.problems()
        if found:
            raise ValueError("PDSA log has problems:\n- " + "\n- ".join(found))

    def to_frame(self) -> pd.DataFrame:
        """One row per cycle, with the data's verdict beside the team's decision."""
        rows = [{**c.as_dict(), "outcome": self.outcome(c)} for c in self.cycles]
        cols = list(PDSACycle.__dataclass_fields__) + ["outcome"]
        return pd.DataFrame(rows, columns=cols)


def _num(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a number, not {value!r}.") from exc
    if out != out:  # NaN means "not known yet"
        return None
    return out


def _describe(result: str) -> str:
    return {
        "met_prediction": "the measure improved as much as predicted; abandoning a change that "
                          "worked throws away the learning",
        "improved": "the measure improved, though less than predicted",
        "no_change": "the change in the measure is smaller than the agreed minimum; adopting a "
                     "change the data do not support is a common mistake",
        "worse": "the measure got worse",
    }[result]
