"""The rubric marker: provisional per-criterion levels with quoted evidence and feedback.

Deterministic rules only: each level's evidence (from the rubric file) is checked by named
detectors; a criterion gets the highest level whose evidence is all found. Results are plain,
JSON-serialisable data so the grading pipeline can store them in the gradebook as provisional
marks for an educator to confirm or override.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .detectors import Context, Hit, hint_for, run_detector
from .schema import Criterion, Evidence, Rubric, load_all, load_rubric, rubrics_dir
from .text import (MAX_CHARS, Section, is_term_list, looks_english, normalise_heading, split_sections, strip_markdown,
                   word_count)

STATUS = "provisional"


@dataclass
class CriterionResult:
    id: str
    title: str
    level: int
    """index of the level reached (0 = lowest)"""
    level_label: str
    points: float
    max_points: float
    evidence: list[str] = field(default_factory=list)
    """quoted words from the answer that earned the level"""
    feedback: str = ""
    """what would earn the next level (and any misconception seen)"""
    max_level: int = 0
    section: str = ""
    """the report heading this was marked on ('' = the whole answer)"""
    certain: bool = True
    """False when the marker's reading is in doubt (words that negate or contradict the evidence, evidence read
    from the whole report for want of its own section, a list of terms): the feedback asks the learner to check"""


@dataclass
class MarkResult:
    rubric_id: str
    rubric_title: str
    points: float
    max_points: float
    criteria: list[CriterionResult]
    notes: list[str] = field(default_factory=list)
    """messages about the answer as a whole (empty, not English, wrong cell, cut short)"""
    status: str = STATUS
    words: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def scaled_points(self, cell_points: float) -> float:
        """The mark on an nbgrader cell worth `cell_points`: rubric points scaled proportionally, 2 decimals."""
        if cell_points < 0:
            raise ValueError(f"cell points must be non-negative (got {cell_points})")
        return round(self.points * cell_points / self.max_points, 2) if self.max_points else 0.0

    def summary_comment(self) -> str:
        """A plain-text comment for the gradebook: score, per-criterion levels and feedback, notes."""
        lines = [f"Provisional rubric mark ({self.rubric_title}): {self.points:g}/{self.max_points:g}."]
        lines += [f"- {n}" for n in self.notes]
        for c in self.criteria:
            check = " [uncertain: please check]" if not c.certain else ""
            lines.append(f"- {c.title}: {c.level_label} ({c.points:g}/{c.max_points:g}){check}. {c.feedback}".rstrip())
        return "\n".join(lines)

    def to_markdown(self) -> str:
        out = [f"**{self.rubric_title}** — {self.points:g} / {self.max_points:g} points (*{self.status}*: to be "
               f"confirmed by an educator)", ""]
        out += [f"> {n}" for n in self.notes]
        if self.notes:
            out.append("")
        out.append("| Criterion | Level | Points | Evidence | Feedback |")
        out.append("|---|---|---|---|---|")

        def cell(s: str) -> str:
            return s.replace("|", "\\|").replace("\n", " ")

        for c in self.criteria:
            ev = "; ".join(f'"{e}"' for e in c.evidence[:2]) or "—"
            check = " — *please check*" if not c.certain else ""
            out.append(f"| {cell(c.title)} | {cell(c.level_label)} ({c.level}/{c.max_level}){check} | "
                       f"{c.points:g}/{c.max_points:g} | {cell(ev)} | {cell(c.feedback) or '—'} |")
        return "\n".join(out)

    def to_html(self) -> str:
        e = html.escape
        rows = []
        for c in self.criteria:
            ev = "".join(f"<li>&ldquo;{e(x)}&rdquo;</li>" for x in c.evidence[:3]) or "<li>none found</li>"
            check = " <em class='check'>(please check)</em>" if not c.certain else ""
            rows.append(
                f"<tr><td>{e(c.title)}</td><td>{e(c.level_label)} ({c.level}/{c.max_level}){check}</td>"
                f"<td class='pts'>{c.points:g}/{c.max_points:g}</td><td><ul>{ev}</ul></td><td>{e(c.feedback)}</td></tr>")
        notes = "".join(f"<p class='note'>{e(n)}</p>" for n in self.notes)
        return (
            f"<div class='qicourse-rubric' data-rubric='{e(self.rubric_id)}' data-status='{e(self.status)}'>"
            f"<h3>{e(self.rubric_title)}: {self.points:g} / {self.max_points:g} "
            f"<span class='status'>({e(self.status)} &ndash; to be confirmed by an educator)</span></h3>{notes}"
            "<table><thead><tr><th>Criterion</th><th>Level</th><th>Points</th><th>Evidence</th><th>Feedback</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")

    def _repr_html_(self) -> str:  # shown by Jupyter
        return self.to_html()


# ---------------------------------------------------------------------------------------------
#: words that do not count when judging how much of a heading an alias covers ("Aim and measures")
_FILLER = frozenset("a an and the of to for in on with our we by from what how".split())


#: headings that hold several parts of a report ("Methods" may hold the measures, the changes, the PDSA cycles or
#: none of them): read for a criterion only when the criterion finds its first-level evidence there
_GENERIC_HEADINGS = frozenset({"methods", "method", "design methods", "study design", "pdsa cycles", "phase 1",
                               "data", "analysis", "summary"})


def _section_for(criterion: Criterion, sections: list[Section], rubric: Rubric | None = None,
                 facts: dict | None = None) -> Section | None:
    """The non-empty report section whose heading best matches one of the criterion's aliases (whole words).

    A heading the alias is most of ("PDSA cycles", "5. PDSA cycles and what we predicted") is preferred, then
    the earlier alias, then the exact heading; a long title that merely mentions the alias ("Reducing time to
    antibiotics with PDSA cycles") is used only when nothing better matches, and never when it has no text.
    An empty heading that matches better than any non-empty one ("### Plan" over inline "Objective:",
    "Prediction:" ... labels) is an umbrella over sub-sections: None, so the whole answer is read. A section
    matched only by a generic alias (`_GENERIC_HEADINGS`) is used only when it holds the criterion's evidence.
    """
    if not criterion.sections:
        return None
    candidates: list[tuple[tuple, Section, str]] = []
    umbrella: tuple | None = None
    for index, s in enumerate(sections):
        words = normalise_heading(s.heading)
        if not words:
            continue
        content = [w for w in words.split() if w not in _FILLER] or words.split()
        for rank, alias in enumerate(criterion.sections):
            a = normalise_heading(alias)
            if f" {a} " not in f" {words} ":
                continue
            covered = sum(1 for w in a.split() if w not in _FILLER) or len(a.split())
            key = (covered / len(content) < 0.5, rank, words != a, index)
            if not s.text.strip():
                if not key[0] and (umbrella is None or key < umbrella):
                    umbrella = key
            else:
                candidates.append((key, s, a))
    for key, s, alias in sorted(candidates, key=lambda c: c[0]):
        if umbrella is not None and umbrella[:2] < key[:2]:
            return None
        if alias in _GENERIC_HEADINGS and rubric is not None and len(criterion.levels) > 1:
            ctx = Context(text=s.text, facts=facts or {}, keyword_groups=rubric.keyword_groups)
            if not _check(criterion.levels[1].evidence, ctx, {})[0]:  # type: ignore[arg-type]
                continue
        return s
    return None


def _check(evidence: Evidence, ctx: Context, cache: dict[str, Hit]) -> tuple[bool, list[str], list[str]]:
    """Whether the evidence holds; the spans found; the detectors that were missing."""

    def hit(name: str) -> Hit:
        if name not in cache:
            cache[name] = run_detector(name, ctx)
        return cache[name]

    spans: list[str] = []
    missing: list[str] = []
    for d in evidence.requires:
        h = hit(d)
        if h.fired:
            spans += h.spans
        else:
            missing.append(d)
    if evidence.any_of:
        fired = [d for d in evidence.any_of if hit(d).fired]
        if fired:
            spans += hit(fired[0]).spans
        else:
            missing.append(evidence.any_of[0])
    if evidence.at_least:
        n, of = evidence.at_least
        fired = [d for d in of if hit(d).fired]
        for d in fired:
            spans += hit(d).spans[:1]
        if len(fired) < n:
            missing += [d for d in of if d not in fired][: n - len(fired)]
    for d, n in evidence.counts:
        h = hit(d)
        if len(h.spans) >= n:
            spans += h.spans
        else:
            missing.append(d)
    blocked = [d for d in evidence.forbids if hit(d).fired]
    short = evidence.min_words and word_count(ctx.text) < evidence.min_words
    ok = not missing and not blocked and not short
    return ok, spans, missing


def _mark_criterion(c: Criterion, ctx: Context, section: str, rubric: Rubric, *, whole_of_report: bool = False,
                    term_list: bool = False) -> CriterionResult:
    """The criterion's level, evidence and feedback, phrased as what the marker found (provisional).

    `whole_of_report`: the answer has sections but none for this criterion, so the whole report was read and
    the evidence may belong to another section. `term_list`: the text is a list of terms, not sentences, so no
    level above the lowest is given.
    """
    cache: dict[str, Hit] = {}
    reached, evidence = 0, []
    for i in range(len(c.levels) - 1, 0, -1):
        ok, spans, _ = _check(c.levels[i].evidence, ctx, cache)  # type: ignore[arg-type]
        if ok:
            reached, evidence = i, spans
            break
    parts: list[str] = []
    doubts: list[str] = []
    if term_list and reached > 0:
        reached, evidence = 0, []
        doubts.append("This reads as a list of terms rather than sentences, so nothing was credited: explain in "
                      "sentences what you did and found.")
    level = c.levels[reached]
    # words that negate, dismiss or contradict the evidence this criterion looked for
    contradicted = [h.note for h in cache.values() if h.dismissed and h.note]
    doubts += contradicted
    if reached > 0 and whole_of_report:
        doubts.append("No section of the report is headed for this, so the whole report was read: check that the "
                      "quoted words are about this criterion.")
    if reached < len(c.levels) - 1:
        nxt = c.levels[reached + 1]
        _, _, missing = _check(nxt.evidence, ctx, cache)  # type: ignore[arg-type]
        blocked = [d for d in nxt.evidence.forbids if cache.get(d) and cache[d].fired]  # type: ignore[union-attr]
        parts.append(nxt.feedback or f"To reach '{nxt.label}': {nxt.descriptor}")
        if not nxt.feedback:  # the level's own feedback already says what to add
            hints = [hint_for(d, rubric.keyword_groups) for d in missing[:2]]
            parts += [h for h in dict.fromkeys(hints) if h][:1]
        for d in blocked:
            if cache[d].note and cache[d].note not in parts:
                parts.append(cache[d].note)
    elif doubts:
        parts.append("The marker found words for the top level (quoted) but is not sure of its reading.")
    else:
        parts.append("The marker found what the top level asks for (quoted as evidence).")
    notes = [h.note for h in cache.values() if h.note and h.note not in parts and not h.dismissed]
    parts += notes[:1]
    parts += [d for d in dict.fromkeys(doubts) if d not in parts][:2]
    if doubts:
        parts.append("Please check this; your educator will confirm the mark.")
    return CriterionResult(id=c.id, title=c.title, level=reached, level_label=level.label, points=level.points,
                           max_points=c.points, evidence=_tidy(evidence),
                           feedback=" ".join(parts), max_level=len(c.levels) - 1, section=section,
                           certain=not doubts)


_HEADING_ONLY = re.compile(r"^[\w ,&/()'-]{1,60}:$")


def _tidy(spans: list[str]) -> list[str]:
    """Distinct, non-empty quotes; a bare section heading ("Limitations:") only when nothing else was found."""
    spans = [s for s in dict.fromkeys(spans) if s]
    body = [s for s in spans if not _HEADING_ONLY.match(s)]
    if body:
        return body[:4]
    return [f"a section headed \"{s[:-1]}\"" for s in spans[:1]]


_GENRE = {
    "pdsa": re.compile(r"\b(?:plan|do|study|act)\s*[:\n]|\bPDSA\b|\bpredict", re.I),
    # SQUIRE 2.0 and IMRaD section names, as ATX, bold, numbered or run-in headings
    "report": re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*|__)?(?:\d+[.)]\s*)?(?:problem|background|context|introduction|"
                         r"rationale|specific aims?|aims?(?: statement)?|objectives?|methods?|measures?|interventions?|"
                         r"study of the intervention|results?|findings|limitations|sustainability|equity|interpretation|"
                         r"discussion|conclusions?|lessons learn[et]d?|next steps)\b", re.I | re.M),
}


def guess_kind(text: str) -> str | None:
    """A rough guess of what sort of write-up this is ('aim', 'pdsa', 'report'), or None if unsure."""
    headings = len(_GENRE["report"].findall(text))
    pdsa = len(_GENRE["pdsa"].findall(text))
    words = word_count(text)
    if headings >= 4 and words > 250:
        return "report"
    if pdsa >= 3:
        return "pdsa"
    if words <= 80 and re.search(r"\b(?:aim|increase|reduce|decrease)\b", text, re.I):
        return "aim"
    return None


#: what nbgrader puts in a manually graded Markdown cell of the student version
_PLACEHOLDER = re.compile(r"^[ \t]*YOUR ANSWER HERE[ \t]*$", re.M)

_KIND_NAMES = {"aim": "an aim", "pdsa": "a PDSA plan", "report": "a full project report"}


def _split(rubric: Rubric, raw: str) -> list[Section]:
    labels = frozenset(normalise_heading(a) for c in rubric.criteria for a in c.sections)
    return split_sections(raw, labels) if labels else []


def locate_sections(rubric: Rubric | str, text: str) -> dict[str, Section | None]:
    """{criterion id: the report section it is marked on, or None when the whole answer is read}."""
    if not isinstance(rubric, Rubric):
        rubric = load_rubric(rubric)
    sections = _split(rubric, _PLACEHOLDER.sub("", (text or "")[:MAX_CHARS]))
    out: dict[str, Section | None] = {}
    for c in rubric.criteria:
        sec = _section_for(c, sections, rubric)
        out[c.id] = sec if sec is not None and sec.text.strip() else None
    return out


def mark_answer(rubric: Rubric | str, text: str | None, facts: dict | None = None) -> MarkResult:
    """Mark one write-up against a rubric; never raises on learner text (empty, huge, not English)."""
    if not isinstance(rubric, Rubric):
        rubric = load_rubric(rubric)
    facts = dict(facts or {})
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    notes: list[str] = []
    if len(raw) > MAX_CHARS:
        notes.append(f"The answer is very long ({len(raw):,} characters); only the first {MAX_CHARS:,} were read.")
        raw = raw[:MAX_CHARS]
    raw = _PLACEHOLDER.sub("", raw)
    plain = strip_markdown(raw)
    words = word_count(plain)
    if not plain.strip():
        notes.append("No answer was written, so every criterion is at its lowest level.")
    elif is_term_list(plain):
        pass  # a list of terms is not judged for its English (noted below)
    elif not looks_english(plain):
        notes.append("This answer does not appear to be in English; the automatic marker reads English only, so "
                     "these marks are unreliable and an educator should read it.")
    else:
        kind = guess_kind(raw)
        if kind and rubric.kind in _KIND_NAMES and kind != rubric.kind:
            notes.append(f"This looks like {_KIND_NAMES[kind]} rather than {_KIND_NAMES[rubric.kind]}: was it "
                         f"written in the right cell? Marks below are for what this rubric asks.")
    sections = _split(rubric, raw)
    # the fallback for a criterion without its own section: the answer's words without the headings, so a
    # blank template ("## Equity", "## Limitations" ...) earns nothing
    body = "\n".join(s.text for s in sections) if sections else plain
    whole_ctx = Context(text=body, facts=facts, keyword_groups=rubric.keyword_groups)
    headed = sum(1 for s in sections if s.heading) >= 2  # a report with its own sections
    whole_list = is_term_list(body)
    if whole_list:
        notes.append("This answer reads as a list of terms rather than sentences; the marker credits only what is "
                     "explained in sentences.")
    results: list[CriterionResult] = []
    for c in rubric.criteria:
        sec = _section_for(c, sections, rubric, facts)
        if sec is not None and sec.text.strip():
            # the heading is part of what the learner wrote ("## Limitations" says they considered them)
            ctx = Context(text=f"{sec.heading}:\n{sec.text}", facts=facts, keyword_groups=rubric.keyword_groups,
                          whole=body)
            results.append(_mark_criterion(c, ctx, sec.heading, rubric, term_list=whole_list or is_term_list(sec.text)))
        else:
            results.append(_mark_criterion(c, whole_ctx, "", rubric, term_list=whole_list,
                                           whole_of_report=headed and bool(c.sections)))
    total = sum(r.points for r in results)
    return MarkResult(rubric_id=rubric.id, rubric_title=rubric.title, points=total, max_points=rubric.max_points,
                      criteria=results, notes=notes, words=words)


def mark_notebook_cells(rubric_dir: str | Path | None = None, cells: dict[str, str] | None = None,
                        facts: dict | None = None) -> dict[str, MarkResult]:
    """Mark the write-up cells of a notebook: {grade_id: text} -> {rubric id: MarkResult}.

    A rubric listing several grade ids marks their texts joined in its order (each under a
    heading named after the grade id, so section matching still works). Cells no rubric lists are
    ignored.
    """
    if isinstance(rubric_dir, dict):  # called as mark_notebook_cells(cells, ...)
        rubric_dir, cells = None, rubric_dir
    cells = cells or {}
    out: dict[str, MarkResult] = {}
    for rubric in load_all(rubric_dir or rubrics_dir()):
        present = [g for g in rubric.grade_ids if g in cells]
        if not present:
            continue
        if len(rubric.grade_ids) == 1:
            text = cells[present[0]] or ""
        else:
            text = "\n\n".join(f"## {g.replace('_', ' ')}\n\n{cells[g] or ''}" for g in present)
        out[rubric.id] = mark_answer(rubric, text, facts)
    return out
