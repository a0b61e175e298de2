"""Rubric files: typed schema, loading and validation with errors that name file, criterion and problem.

A rubric (YAML in `grader/rubrics/`) lists criteria; each criterion has ordered levels
(0..max) with a label, points and descriptor, and the evidence that earns each level, named
declaratively (detectors from `qicourse.rubric.detectors`, or the rubric's own keyword groups
as `kw.<name>`). The marker gives a criterion the highest level whose evidence is all found.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..paths import repo_root


class RubricError(ValueError):
    """A rubric file is malformed; the message lists every problem found, one a line."""


@dataclass(frozen=True)
class KeywordGroup:
    name: str
    patterns: tuple[str, ...]
    """regular expressions matched case-insensitively at word boundaries"""
    hint: str = ""
    """what to write to satisfy the group (used in feedback when it is missing)"""
    negatable: bool = False
    """a mention negated or dismissed in its clause does not count ("no balancing measure was needed")"""
    unless: str | None = None
    """a regular expression: a mention in a sentence matching it does not count (e.g. a cited standard)"""


@dataclass(frozen=True)
class Evidence:
    """What must be found in the answer for a level. All stated conditions must hold."""

    requires: tuple[str, ...] = ()
    """every one of these detectors must fire"""
    any_of: tuple[str, ...] = ()
    """at least one of these must fire"""
    at_least: tuple[int, tuple[str, ...]] | None = None
    """(n, detectors): at least n of the detectors must fire"""
    counts: tuple[tuple[str, int], ...] = ()
    """(detector, n): the detector must find at least n distinct spans"""
    forbids: tuple[str, ...] = ()
    """none of these may fire (e.g. a misreading of the chart caps the level)"""
    min_words: int = 0
    """the (section) text must have at least this many words"""

    def detectors(self) -> set[str]:
        names = set(self.requires) | set(self.any_of) | set(self.forbids) | {d for d, _ in self.counts}
        if self.at_least:
            names |= set(self.at_least[1])
        return names


@dataclass(frozen=True)
class Level:
    points: float
    label: str
    descriptor: str
    """what work at this level looks like (shown to educators and learners)"""
    evidence: Evidence | None = None
    """None only for level 0, which every answer reaches"""
    feedback: str = ""
    """how to reach this level, shown to a learner one level below it"""


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    points: float
    levels: tuple[Level, ...]
    sections: tuple[str, ...] = ()
    """report headings this criterion is marked on (capstone); empty = the whole answer"""
    description: str = ""


@dataclass(frozen=True)
class Rubric:
    id: str
    title: str
    grade_ids: tuple[str, ...]
    """nbgrader grade ids of the write-up cells this rubric marks"""
    criteria: tuple[Criterion, ...]
    keyword_groups: dict[str, KeywordGroup] = field(default_factory=dict)
    description: str = ""
    kind: str = "answer"
    """'aim', 'pdsa' or 'report': what sort of write-up this is (used to spot answers in the wrong cell)"""
    path: str = ""

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.criteria)

    def criterion(self, cid: str) -> Criterion:
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(f"rubric {self.id!r} has no criterion {cid!r}")


_RUBRIC_KEYS = {"id", "title", "description", "grade_ids", "kind", "total_points", "keyword_groups", "criteria",
                "version"}
_CRITERION_KEYS = {"id", "title", "description", "points", "sections", "levels"}
_LEVEL_KEYS = {"points", "label", "descriptor", "evidence", "feedback"}
_EVIDENCE_KEYS = {"requires", "any_of", "at_least", "counts", "forbids", "min_words"}
_GROUP_KEYS = {"patterns", "hint", "negatable", "unless"}
_KINDS = {"aim", "pdsa", "report", "answer"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def rubrics_dir() -> Path:
    """`QICOURSE_RUBRICS` if set, else `grader/rubrics/` in the repository."""
    env = os.environ.get("QICOURSE_RUBRICS")
    if env:
        return Path(env)
    return repo_root() / "grader" / "rubrics"


def load_rubric(name_or_path: str | os.PathLike[str]) -> Rubric:
    """Load and validate a rubric by name (`smart_aim`) or path; raises RubricError or FileNotFoundError."""
    p = Path(name_or_path)
    if p.suffix.lower() not in (".yaml", ".yml") and not p.exists():
        p = rubrics_dir() / f"{name_or_path}.yaml"
    if not p.is_file():
        known = ", ".join(list_rubrics()) or "none"
        raise FileNotFoundError(f"No rubric {str(name_or_path)!r} (looked for {p}); known rubrics: {known}")
    key = (str(p.resolve()), p.stat().st_mtime_ns)
    if key not in _CACHE:  # a cohort run looks rubrics up once per learner: parse each file once
        _CACHE[key] = _read_rubric(p)
    return _CACHE[key]


_CACHE: dict[tuple[str, int], Rubric] = {}


def _read_rubric(p: Path) -> Rubric:
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RubricError(f"{p.name}: not valid YAML: {exc}") from None
    return parse_rubric(raw, source=str(p))


def list_rubrics(directory: str | os.PathLike[str] | None = None) -> list[str]:
    try:
        d = Path(directory) if directory else rubrics_dir()
    except FileNotFoundError:
        return []
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def load_all(directory: str | os.PathLike[str] | None = None) -> list[Rubric]:
    d = Path(directory) if directory else rubrics_dir()
    return [load_rubric(p) for p in sorted(d.glob("*.yaml"))]


def rubric_for_grade_id(grade_id: str, directory: str | os.PathLike[str] | None = None) -> Rubric | None:
    """The rubric that marks the write-up cell `grade_id`, or None."""
    for r in load_all(directory):
        if grade_id in r.grade_ids:
            return r
    return None


def parse_rubric(raw: object, source: str = "<rubric>") -> Rubric:
    """Build a Rubric from parsed YAML, collecting every problem into one RubricError."""
    from .detectors import DETECTORS  # the registry of named detectors

    name = Path(source).name
    errors: list[str] = []

    def err(where: str, problem: str) -> None:
        errors.append(f"{name}: {where}: {problem}" if where else f"{name}: {problem}")

    if not isinstance(raw, dict):
        raise RubricError(f"{name}: the file must be a mapping with id, title, grade_ids and criteria")
    for k in sorted(set(raw) - _RUBRIC_KEYS):
        err("", f"unknown key {k!r} (allowed: {', '.join(sorted(_RUBRIC_KEYS))})")
    for k in ("id", "title", "grade_ids", "criteria"):
        if k not in raw:
            err("", f"missing required key {k!r}")
    rid = str(raw.get("id", ""))
    if rid and not _ID.match(rid):
        err("", f"id {rid!r} must be lower_snake_case")
    kind = str(raw.get("kind", "answer"))
    if kind not in _KINDS:
        err("", f"kind {kind!r} must be one of {', '.join(sorted(_KINDS))}")
    grade_ids = raw.get("grade_ids") or []
    if not isinstance(grade_ids, list) or not all(isinstance(g, str) and _ID.match(g) for g in grade_ids) \
            or not grade_ids:
        err("", "grade_ids must be a non-empty list of lower_snake_case nbgrader grade ids")
        grade_ids = []

    groups: dict[str, KeywordGroup] = {}
    for gname, g in (raw.get("keyword_groups") or {}).items():
        where = f"keyword group {gname!r}"
        if isinstance(g, list):
            g = {"patterns": g}
        if not isinstance(g, dict):
            err(where, "must be a list of patterns or a mapping with patterns and hint")
            continue
        for k in sorted(set(g) - _GROUP_KEYS):
            err(where, f"unknown key {k!r} (allowed: {', '.join(sorted(_GROUP_KEYS))})")
        pats = g.get("patterns") or []
        if not pats or not all(isinstance(x, str) and x for x in pats):
            err(where, "patterns must be a non-empty list of strings")
            continue
        for x in pats:
            try:
                re.compile(x)
            except re.error as exc:
                err(where, f"pattern {x!r} is not a valid regular expression ({exc})")
        negatable = g.get("negatable", False)
        if not isinstance(negatable, bool):
            err(where, "negatable must be true or false")
            negatable = False
        unless = g.get("unless")
        if unless is not None:
            try:
                re.compile(str(unless))
            except re.error as exc:
                err(where, f"unless {unless!r} is not a valid regular expression ({exc})")
                unless = None
        groups[str(gname)] = KeywordGroup(str(gname), tuple(pats), str(g.get("hint", "")), negatable,
                                          None if unless is None else str(unless))

    known = set(DETECTORS) | {f"kw.{g}" for g in groups}
    criteria: list[Criterion] = []
    seen: set[str] = set()
    raw_criteria = raw.get("criteria") or []
    if not isinstance(raw_criteria, list) or not raw_criteria:
        err("", "criteria must be a non-empty list")
        raw_criteria = []
    for i, c in enumerate(raw_criteria):
        crit = _parse_criterion(c, i, err, known)
        if crit is None:
            continue
        if crit.id in seen:
            err(f"criterion {crit.id!r}", "duplicate criterion id")
        seen.add(crit.id)
        criteria.append(crit)

    total = raw.get("total_points")
    if total is not None and criteria and abs(float(total) - sum(c.points for c in criteria)) > 1e-9:
        err("", f"total_points is {total} but the criteria's points add up to "
                f"{sum(c.points for c in criteria):g}")
    if errors:
        raise RubricError("invalid rubric:\n  " + "\n  ".join(errors))
    return Rubric(id=rid, title=str(raw["title"]), grade_ids=tuple(grade_ids), criteria=tuple(criteria),
                  keyword_groups=groups, description=str(raw.get("description", "")).strip(), kind=kind,
                  path=source)


def _parse_criterion(c: object, i: int, err, known: set[str]) -> Criterion | None:
    if not isinstance(c, dict):
        err(f"criterion #{i + 1}", "must be a mapping")
        return None
    cid = str(c.get("id", f"#{i + 1}"))
    where = f"criterion {cid!r}"
    for k in sorted(set(c) - _CRITERION_KEYS):
        err(where, f"unknown key {k!r} (allowed: {', '.join(sorted(_CRITERION_KEYS))})")
    if "id" not in c or not _ID.match(cid):
        err(where, "needs an id in lower_snake_case")
    if not c.get("title"):
        err(where, "missing title")
    points = c.get("points")
    if not isinstance(points, (int, float)) or points <= 0:
        err(where, f"points must be a positive number (got {points!r})")
        points = 0
    raw_levels = c.get("levels")
    if not isinstance(raw_levels, list) or len(raw_levels) < 2:
        err(where, "levels must be a list of at least two levels (0 and the top)")
        return None
    levels: list[Level] = []
    for j, lv in enumerate(raw_levels):
        lwhere = f"{where} level {j}"
        if not isinstance(lv, dict):
            err(lwhere, "must be a mapping with points, label, descriptor")
            continue
        for k in sorted(set(lv) - _LEVEL_KEYS):
            err(lwhere, f"unknown key {k!r} (allowed: {', '.join(sorted(_LEVEL_KEYS))})")
        for k in ("label", "descriptor"):
            if not str(lv.get(k) or "").strip():
                err(lwhere, f"missing {k}")
        lp = lv.get("points")
        if not isinstance(lp, (int, float)):
            err(lwhere, f"points must be a number (got {lp!r})")
            lp = 0
        ev = None
        if "evidence" in lv:
            ev = _parse_evidence(lv["evidence"], lwhere, err, known)
        if j == 0 and ev is not None:
            err(lwhere, "level 0 is the default and must not list evidence")
        if j > 0 and ev is None:
            err(lwhere, "missing evidence (every level above 0 must say what earns it)")
        levels.append(Level(points=float(lp), label=str(lv.get("label", "")).strip(),
                            descriptor=" ".join(str(lv.get("descriptor", "")).split()), evidence=ev,
                            feedback=" ".join(str(lv.get("feedback", "")).split())))
    if levels:
        if levels[0].points != 0:
            err(where, f"the first level must be worth 0 points (got {levels[0].points:g})")
        for a, b in zip(levels, levels[1:]):
            if b.points <= a.points:
                err(where, f"levels out of order: level {b.label!r} ({b.points:g} points) must be worth more "
                           f"than level {a.label!r} ({a.points:g})")
        if points and levels[-1].points != points:
            err(where, f"points do not add up: the criterion is worth {points:g} but its top level is worth "
                       f"{levels[-1].points:g}")
    sections = c.get("sections") or []
    if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
        err(where, "sections must be a list of heading names")
        sections = []
    return Criterion(id=cid, title=str(c.get("title", "")), points=float(points), levels=tuple(levels),
                     sections=tuple(s.lower() for s in sections),
                     description=" ".join(str(c.get("description", "")).split()))


def _parse_evidence(ev: object, where: str, err, known: set[str]) -> Evidence | None:
    if not isinstance(ev, dict) or not ev:
        err(where, "evidence must be a mapping (requires, any_of, at_least, counts, forbids, min_words)")
        return None
    for k in sorted(set(ev) - _EVIDENCE_KEYS):
        err(where, f"unknown evidence key {k!r} (allowed: {', '.join(sorted(_EVIDENCE_KEYS))})")

    def names(key: str) -> tuple[str, ...]:
        v = ev.get(key) or []
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            err(where, f"evidence {key} must be a list of detector names")
            return ()
        for d in v:
            if d not in known:
                err(where, f"unknown detector {d!r} in {key}")
        return tuple(str(d) for d in v)

    at_least = None
    if "at_least" in ev:
        a = ev["at_least"]
        if not isinstance(a, dict) or set(a) != {"n", "of"} or not isinstance(a.get("n"), int):
            err(where, "at_least must be a mapping {n: <int>, of: [detectors]}")
        else:
            of = a["of"] if isinstance(a["of"], list) else []
            for d in of:
                if d not in known:
                    err(where, f"unknown detector {d!r} in at_least")
            if a["n"] > len(of) or a["n"] < 1:
                err(where, f"at_least n={a['n']} must be between 1 and the number of detectors listed ({len(of)})")
            at_least = (a["n"], tuple(of))
    counts: list[tuple[str, int]] = []
    for d, n in (ev.get("counts") or {}).items():
        if d not in known:
            err(where, f"unknown detector {d!r} in counts")
        if not isinstance(n, int) or n < 1:
            err(where, f"counts for {d!r} must be a positive integer")
            continue
        counts.append((d, n))
    mw = ev.get("min_words", 0)
    if not isinstance(mw, int) or mw < 0:
        err(where, "min_words must be a non-negative integer")
        mw = 0
    return Evidence(requires=names("requires"), any_of=names("any_of"), at_least=at_least, counts=tuple(counts),
                    forbids=names("forbids"), min_words=mw)
