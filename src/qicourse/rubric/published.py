"""Agreement on a corpus of published QI writing with hand labels (aims, structured abstracts, capstones).

The corpus files (YAML, `rubric:` and `items:`) are built by someone who never read the marker:
- aims (`rubric: smart_aim`): each item has `smart` (per SMART element `present` and `span`, and a
  `verdict`, "SMART" or "not SMART") and `hand` (level per criterion);
- structured abstracts (`rubric: capstone`, items with `sections`): each capstone section maps to
  the heading(s) or first words (substrings of `text`) where its content starts; `absent` lists the
  sections the text does not contain;
- capstones (`rubric: capstone`, items with `hand`): the expert's level per criterion.
`evaluate_published()` reads any of these and reports what applies: SMART element agreement per
element, verdict agreement, section recall and precision, QWK per criterion and on the total, and
each item's distance from the expert's total.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from .agreement import exact_agreement, quadratic_weighted_kappa
from .marker import locate_sections, mark_answer
from .schema import load_rubric
from .smart import analyse_smart_aim

#: corpus element name -> SmartAnalysis attribute
_ELEMENTS = {"setting": "population", "measure": "measure", "target": "target", "baseline": "baseline",
             "direction": "direction", "time_frame": "time_frame"}


def _load(path: str | os.PathLike[str]) -> dict:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), list):
        raise ValueError(f"{Path(path).name}: not a corpus file (needs a list of 'items')")
    return raw


def smart_agreement(items: list[dict]) -> dict:
    """Per SMART element, the share of aims where the analyser's present/absent matches the label; and
    the share where its verdict (`is_smart`) matches the label's."""
    agree = {e: [] for e in _ELEMENTS}
    verdict = []
    misses: list[str] = []
    for it in items:
        labels = it.get("smart") or {}
        a = analyse_smart_aim(it["text"])
        for e, attr in _ELEMENTS.items():
            lab = labels.get(e)
            if not isinstance(lab, dict) or "present" not in lab:
                continue
            ok = bool(lab["present"]) == (getattr(a, attr) is not None)
            agree[e].append(ok)
            if not ok:
                misses.append(f"{it['id']} {e}: label {'present' if lab['present'] else 'absent'}, "
                              f"marker {a.spans.get(attr) or a.spans.get(e) or '-'}")
        if "verdict" in labels:
            ok = (str(labels["verdict"]).strip().lower() == "smart") == a.is_smart
            verdict.append(ok)
            if not ok:
                misses.append(f"{it['id']} verdict: label {labels['verdict']}, marker is_smart={a.is_smart}")
    return {"elements": {e: (sum(v) / len(v) if v else None) for e, v in agree.items()},
            "verdict": sum(verdict) / len(verdict) if verdict else None, "n": len(items), "misses": misses}


def section_agreement(items: list[dict], rubric_id: str = "capstone") -> dict:
    """How well the marker finds each report section (`locate_sections`).

    A label that starts a line (a heading: "Objectives:", "**Lessons learnt**", a run-in "Results The
    proportion ...") is found only when the marker reads that criterion from a section holding it; a label
    inside a paragraph ("The outcome measure was ...") is found when the text the marker reads for the
    criterion (its section, or the whole answer when no heading matched) holds it. Recall is over the
    labelled sections; precision over the sections the marker read from a heading (a section labelled
    absent, or one that does not hold the labelled start, is a false positive).
    """
    rubric = load_rubric(rubric_id)
    tp = fn = fp = located = 0
    misses: list[str] = []
    for it in items:
        labels = it.get("sections") or {}
        absent = set(it.get("absent") or [])
        text = it["text"]
        found = locate_sections(rubric, text)
        for cid, sec in found.items():
            starts = labels.get(cid) or []
            starts = [starts] if isinstance(starts, str) else starts
            read = _norm(f"{sec.heading} {sec.text}") if sec is not None else _norm(text)
            holds = [s for s in starts if _norm(s) in read]
            if sec is not None:
                located += 1
                if cid in absent or not holds:
                    fp += 1
                    misses.append(f"{it['id']} {cid}: marker read '{sec.heading}' "
                                  f"({'labelled absent' if cid in absent else 'labelled at ' + repr(starts[:1])})")
            if cid in absent or not starts:
                continue
            if sec is None and any(_starts_line(text, s) for s in starts):
                holds = []
            if holds:
                tp += 1
            else:
                fn += 1
                misses.append(f"{it['id']} {cid}: labelled at {starts[0]!r}, marker read "
                              f"{repr(sec.heading) if sec else 'no section'}")
    return {"recall": tp / (tp + fn) if tp + fn else None,
            "precision": (located - fp) / located if located else None, "n": len(items), "misses": misses}


def _starts_line(text: str, label: str) -> bool:
    """Is `label` a heading: it opens a line (not a bullet point) and is set off as one (a line of its own,
    a colon, bold, `#`, a question, or a run-in "Results The ..." / "BACKGROUND Patients ...")?"""
    first = label.split("\n")[0]
    for line in text.splitlines():
        t = line.strip()
        if not t.startswith(first) or t[:1] in "✓•-+":
            continue
        if t == first or any(c in first for c in ":*#?") or re.match(r"[A-Z][A-Za-z&/ ]*?\s[A-Z]", first) \
                or (len(first.split()[0]) > 1 and first.split()[0].isupper()):
            return True
    return False


def _norm(s: str) -> str:
    return " ".join(re.findall(r"[a-z0-9%.]+", s.lower().replace("*", " ")))


def mark_agreement(rubric_id: str, items: list[dict]) -> dict:
    """QWK and exact agreement per criterion and on the total; each item's total against the expert's; and the
    criteria where the marker says, without doubt, that the top level is met while the expert marks lower."""
    rubric = load_rubric(rubric_id)
    hand = {c.id: [] for c in rubric.criteria}
    auto = {c.id: [] for c in rubric.criteria}
    ht, at, distance = [], [], []
    overclaimed: list[str] = []
    for it in items:
        if not it.get("hand"):
            continue
        res = mark_answer(rubric, it["text"], it.get("facts"))
        by_id = {c.id: c for c in res.criteria}
        total = 0.0
        for c in rubric.criteria:
            if c.id not in it["hand"]:
                raise ValueError(f"item {it['id']}: no hand mark for criterion {c.id}")
            level = int(it["hand"][c.id][0])
            hand[c.id].append(level)
            auto[c.id].append(by_id[c.id].level)
            total += c.levels[level].points
        ht.append(round(total))
        at.append(round(res.points))
        for c in rubric.criteria:
            got = by_id[c.id]
            if got.level == got.max_level and got.certain and int(it["hand"][c.id][0]) < got.max_level:
                overclaimed.append(f"{it['id']} {c.id}: expert {it['hand'][c.id][0]}, marker top level without doubt")
        distance.append({"item": it["id"], "expert": total, "marker": res.points, "distance": res.points - total,
                         "stratum": it.get("stratum", "")})
    rows = {c.id: {"exact": exact_agreement(hand[c.id], auto[c.id]) if hand[c.id] else None,
                   "qwk": quadratic_weighted_kappa(hand[c.id], auto[c.id], len(c.levels)) if hand[c.id] else None}
            for c in rubric.criteria}
    top = int(round(rubric.max_points)) + 1
    return {"criteria": rows, "total_qwk": quadratic_weighted_kappa(ht, at, top) if ht else None,
            "total_exact": exact_agreement(ht, at) if ht else None, "distance": distance, "n": len(ht),
            "overclaimed": overclaimed}


def evaluate_published(path: str | os.PathLike[str]) -> dict:
    """Everything that applies to one corpus file (see the module docstring)."""
    raw = _load(path)
    items = raw["items"]
    out: dict = {"file": Path(path).name, "rubric": raw.get("rubric", "per item"), "n": len(items)}
    if any("smart" in it for it in items):
        out["smart"] = smart_agreement([it for it in items if "smart" in it])
    if any("sections" in it for it in items):
        out["sections"] = section_agreement([it for it in items if "sections" in it], raw.get("rubric", "capstone"))
    marked = [it for it in items if it.get("hand")]
    if marked:
        # adversarial files name each item's rubric; the others name one rubric for the file
        by_rubric: dict[str, list[dict]] = {}
        for it in marked:
            rid = it.get("rubric") or raw.get("rubric")
            if not rid:
                raise ValueError(f"{Path(path).name}: item {it.get('id')} names no rubric")
            by_rubric.setdefault(str(rid), []).append(it)
        if len(by_rubric) == 1 and raw.get("rubric") in by_rubric:
            out["marks"] = mark_agreement(raw["rubric"], marked)
        else:
            out["marks_by_rubric"] = {rid: mark_agreement(rid, its) for rid, its in by_rubric.items()}
    return out
