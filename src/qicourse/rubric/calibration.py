"""Calibration: how well the marker agrees with hand marks on a set of write-ups.

A calibration file (YAML) names a rubric and lists items with the learner's text, optional facts
and the hand mark (level and a one-line justification) for every criterion. `evaluate()` marks
each item and reports, per criterion, exact agreement and quadratic weighted kappa (QWK), the
same for the total score, and every disagreement.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

import yaml

from .agreement import exact_agreement, quadratic_weighted_kappa
from .marker import mark_answer
from .schema import Rubric, load_rubric


@dataclass
class CalibrationReport:
    rubric_id: str
    n_items: int
    rows: list[dict]
    """per criterion: criterion, n, levels, exact, qwk"""
    total_exact: float
    total_qwk: float | None
    """QWK on the total score (points rounded to integers)"""
    disagreements: list[dict] = field(default_factory=list)
    """item, criterion, hand, marker, justification"""

    @property
    def mean_qwk(self) -> float | None:
        vals = [r["qwk"] for r in self.rows if r["qwk"] is not None]
        return mean(vals) if vals else None

    @property
    def mean_exact(self) -> float:
        return mean(r["exact"] for r in self.rows)


def load_calibration(path: str | os.PathLike[str]) -> tuple[Rubric, list[dict]]:
    """The rubric and items of a calibration file, checking every item has a hand mark per criterion."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rubric = load_rubric(raw["rubric"])
    ids = [c.id for c in rubric.criteria]
    for item in raw["items"]:
        hand = item.get("hand") or {}
        if sorted(hand) != sorted(ids):
            raise ValueError(f"{Path(path).name}: item {item.get('id')}: hand marks for {sorted(hand)} but the rubric "
                             f"has criteria {sorted(ids)}")
        for cid, (level, _why) in hand.items():
            top = len(rubric.criterion(cid).levels) - 1
            if not 0 <= int(level) <= top:
                raise ValueError(f"{Path(path).name}: item {item['id']}: {cid} level {level} outside 0..{top}")
    return rubric, raw["items"]


def evaluate(*paths: str | os.PathLike[str]) -> CalibrationReport:
    """Mark every item of one or more calibration files (same rubric) and compare with the hand marks."""
    if not paths:
        raise ValueError("evaluate() needs at least one calibration file")
    rubric, items = load_calibration(paths[0])
    for p in paths[1:]:
        other, more = load_calibration(p)
        if other.id != rubric.id:
            raise ValueError(f"{Path(p).name} is for rubric {other.id!r}, not {rubric.id!r}")
        items = items + more
    hand: dict[str, list[int]] = {c.id: [] for c in rubric.criteria}
    auto: dict[str, list[int]] = {c.id: [] for c in rubric.criteria}
    hand_total: list[int] = []
    auto_total: list[int] = []
    disagreements: list[dict] = []
    for item in items:
        result = mark_answer(rubric, item["text"], item.get("facts"))
        by_id = {c.id: c for c in result.criteria}
        ht = 0.0
        for c in rubric.criteria:
            h_level, why = item["hand"][c.id]
            a_level = by_id[c.id].level
            hand[c.id].append(int(h_level))
            auto[c.id].append(a_level)
            ht += c.levels[int(h_level)].points
            if a_level != int(h_level):
                disagreements.append({"item": item["id"], "criterion": c.id, "hand": int(h_level), "marker": a_level,
                                      "justification": why, "marker_evidence": by_id[c.id].evidence[:1]})
        hand_total.append(round(ht))
        auto_total.append(round(result.points))
    rows = []
    for c in rubric.criteria:
        k = len(c.levels)
        rows.append({"criterion": c.id, "n": len(items), "levels": k,
                     "exact": exact_agreement(hand[c.id], auto[c.id]),
                     "qwk": quadratic_weighted_kappa(hand[c.id], auto[c.id], k)})
    top = int(round(rubric.max_points)) + 1
    return CalibrationReport(rubric_id=rubric.id, n_items=len(items), rows=rows,
                             total_exact=exact_agreement(hand_total, auto_total),
                             total_qwk=quadratic_weighted_kappa(hand_total, auto_total, top),
                             disagreements=disagreements)
