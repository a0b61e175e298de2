"""The rubric marker: each criterion's levels, hostile answers, facts, sections and rendering."""

from __future__ import annotations

import json

import pytest

from qicourse.rubric import load_rubric, mark_answer, mark_notebook_cells

AIM, PDSA, CAP = (load_rubric(n) for n in ("smart_aim", "pdsa_plan", "capstone"))

AIM_LEVELS = [
    ("direction", 0, "To improve sepsis care."),
    ("direction", 1, "Reduce falls on Ward 3."),
    ("measure", 0, "To improve sepsis care."),
    ("measure", 1, "Reduce the number of falls on Ward 3."),
    ("measure", 2, "Reduce falls per 1,000 bed days on Ward 3."),
    ("target", 0, "Reduce falls on Ward 3 by June 2027."),
    ("target", 1, "Reduce falls per 1,000 bed days on Ward 3 by a third."),
    ("target", 2, "Reduce falls on Ward 3 from 9 to 6 per 1,000 bed days."),
    ("time_frame", 0, "Reduce falls on Ward 3 from 9 to 6 per 1,000 bed days soon."),
    ("time_frame", 1, "Reduce falls on Ward 3 from 9 to 6 per 1,000 bed days by the end of the rotation."),
    ("time_frame", 2, "Reduce falls on Ward 3 from 9 to 6 per 1,000 bed days within 6 months."),
    ("scope", 0, "Reduce falls per 1,000 bed days from 9 to 6 by June 2027."),
    ("scope", 1, "Reduce falls per 1,000 bed days across the whole trust from 9 to 6 by June 2027."),
    ("scope", 2, "Reduce falls per 1,000 bed days on Ward 3 from 9 to 6 by June 2027."),
    ("outcome_focus", 0, "Introduce a falls sticker on Ward 3."),
    ("outcome_focus", 1, "Reduce falls on Ward 3."),
]
PDSA_LEVELS = [
    ("objective", 0, "Reduce median time to antibiotics from 90 to 60 minutes by March 2027."),
    ("objective", 1, "Plan: we will use a sepsis sticker."),
    ("objective", 2, "Objective: to test whether a sepsis sticker on the drug chart helps nurses give antibiotics "
                     "within an hour."),
    ("prediction", 0, "Plan: test a sticker on Ward 3 on Monday."),
    ("prediction", 1, "We predict the sticker will help."),
    ("prediction", 2, "We predict that 8 of 10 patients will get antibiotics within an hour."),
    ("plan", 0, "We want better care."),
    ("plan", 1, "We will trial a sticker on Ward 3."),
    ("plan", 2, "Who: the FY1s. What: a sepsis sticker. Where: Ward 3. When: the Monday day shift."),
    ("measures", 0, "We will trial a sticker."),
    ("measures", 1, "We will record whether the sticker was used."),
    ("measures", 2, "We will record the number of patients who receive antibiotics within 60 minutes of the trigger, "
                    "from the drug chart."),
    ("small_scale", 0, "We will trial the sticker on all wards for six months."),
    ("small_scale", 1, "We will trial the sticker with the next 5 patients on Ward 3."),
    ("study", 0, "Plan: trial the sticker."),
    ("study", 1, "Study: 6 of 10 patients received antibiotics within an hour."),
    ("study", 2, "Study: 6 of 10 patients received antibiotics within an hour, fewer than we predicted."),
    ("act", 0, "Study: 6 of 10 patients received antibiotics."),
    ("act", 1, "Act: adopt the sticker."),
    ("act", 2, "Act: we will adapt the sticker because nurses could not see it on the chart."),
]
CAP_LEVELS = [
    ("problem", 0, "Reduce falls."),
    ("problem", 1, "## Problem\nFalls are common on our ward and they often harm older patients."),
    ("problem", 2, "## Problem\nOn Ward 9, an elderly care ward, there were 41 falls in 6 months (8.2 per 1,000 "
                   "occupied bed days), the commonest incident reported on Datix."),
    ("aim", 0, "## Aim\nTo improve falls care."),
    ("aim", 1, "## Aim\nReduce falls on Ward 9 by June 2027."),
    ("aim", 2, "## Aim\nReduce falls per 1,000 bed days on Ward 9 from 8.2 to 5 by June 2027."),
    ("measures", 0, "## Measures\nWe looked at the data."),
    ("measures", 1, "## Measures\nOutcome measure: falls per 1,000 bed days."),
    ("measures", 2, "## Measures\nOutcome measure: falls per 1,000 bed days. Process measure: % of patients with "
                    "a falls risk assessment."),
    ("measures", 3, "## Measures\nOutcome measure: falls per 1,000 bed days. Process measure: % of patients with "
                    "a falls risk assessment. Balancing measure: use of bed rails."),
    ("changes", 0, "## Changes\nNone yet."),
    ("changes", 1, "## Change ideas\nWe introduced a falls sticker."),
    ("changes", 2, "## Change ideas\nThe 5 whys showed most falls happened at night; we introduced a toileting round."),
    ("pdsa", 0, "## Results\nFalls fell."),
    ("pdsa", 1, "## PDSA cycles\nWe ran PDSA cycles on the toileting round."),
    ("pdsa", 2, "## PDSA cycles\nPDSA 1: we predicted 2 falls and saw 1. PDSA 2: we predicted none and saw none."),
    ("results", 0, "## Results\nNot yet available."),
    ("results", 1, "## Results\nFalls fell from 9 to 6 per month."),
    ("results", 2, "## Results\nThe run chart shows a shift of 8 points below the median."),
    ("results", 3, "## Results\nThe run chart shows a shift of 8 points below the median in week 10, when the "
                   "toileting round began; falls fell from a median of 9 to 5 per 1,000 bed days."),
    ("interpretation", 0, "## Interpretation\nThe project was a success."),
    ("interpretation", 1, "## Interpretation\nWe learned that night-time supervision mattered most."),
    ("interpretation", 2, "## Interpretation\nWe learned that night-time supervision mattered most. Falls are "
                          "seasonal, so part of the fall may reflect the season."),
    ("equity", 0, "## Results\nFalls fell."),
    ("equity", 1, "## Equity\nWe considered whether older patients might benefit less."),
    ("equity", 2, "## Equity\nStratified by IMD quintile, falls fell less in the most deprived quintile than in the "
                  "least deprived, so the gap widened."),
    ("sustainability", 0, "## Results\nFalls fell."),
    ("sustainability", 1, "## Sustainability\nWe hope the change will continue."),
    ("sustainability", 2, "## Sustainability\nThe toileting round is in the ward's standard operating procedure and "
                          "the ward manager will review the monthly data."),
    ("limitations", 0, "## Results\nFalls fell."),
    ("limitations", 1, "## Limitations\nThe sample was small."),
    ("limitations", 2, "## Limitations\nData came from Datix, which misses unreported falls, so the true rate may "
                       "have been underestimated."),
]


def _level(rubric, criterion, text, facts=None):
    result = mark_answer(rubric, text, facts)
    return next(c for c in result.criteria if c.id == criterion)


@pytest.mark.parametrize("criterion,level,text", AIM_LEVELS, ids=[f"{c}-{l}" for c, l, _ in AIM_LEVELS])
def test_smart_aim_levels(criterion, level, text):
    """Does each SMART aim criterion reach exactly the level its descriptor gives this answer?"""
    assert _level(AIM, criterion, text).level == level


@pytest.mark.parametrize("criterion,level,text", PDSA_LEVELS, ids=[f"{c}-{l}" for c, l, _ in PDSA_LEVELS])
def test_pdsa_levels(criterion, level, text):
    """Does each PDSA criterion reach exactly the level its descriptor gives this answer?"""
    assert _level(PDSA, criterion, text).level == level


@pytest.mark.parametrize("criterion,level,text", CAP_LEVELS, ids=[f"{c}-{l}" for c, l, _ in CAP_LEVELS])
def test_capstone_levels(criterion, level, text):
    """Does each capstone criterion reach exactly the level its descriptor gives this section?"""
    facts = {"chart_signals": ["shift"]} if criterion == "results" else None
    assert _level(CAP, criterion, text, facts).level == level


def test_every_level_of_every_criterion_is_exercised():
    """Do the tables above cover every level of every criterion of the three rubrics?"""
    for rubric, table in ((AIM, AIM_LEVELS), (PDSA, PDSA_LEVELS), (CAP, CAP_LEVELS)):
        covered = {(c, lvl) for c, lvl, _ in table}
        wanted = {(c.id, i) for c in rubric.criteria for i in range(len(c.levels))}
        assert wanted <= covered, wanted - covered


def test_chart_facts_decide_whether_the_reading_is_right():
    """Is a claimed shift marked down when the learner's own chart shows no signal, and up when it does?"""
    text = "## Results\nThe run chart shows a shift of 8 points below the median after PDSA 2."
    right = _level(CAP, "results", text, {"chart_signals": ["shift"], "chart_type": "run"})
    wrong = _level(CAP, "results", text, {"chart_signals": [], "chart_type": "run"})
    assert right.level >= 2 and wrong.level == 1
    assert "shows no signal" in wrong.feedback
    none_claimed = _level(CAP, "results", "## Results\nThe run chart shows only common-cause variation, with no "
                                          "shifts or trends.", {"chart_signals": []})
    assert none_claimed.level == 2


def test_target_line_misconception_is_named():
    """Does feedback name the 'target line is special cause' misconception?"""
    c = _level(CAP, "results", "## Results\nOn our p-chart the last four weeks were above the 95% target line, which "
                               "is special cause variation.", {"chart_signals": ["shift"]})
    assert c.level == 1
    assert "targets are not control limits" in c.feedback


def test_solution_in_disguise_and_too_big_are_named():
    """Does aim feedback name a solution in disguise and an aim too big for a rotation?"""
    r = mark_answer(AIM, "To introduce a new sepsis proforma in ED.")
    assert "solution in disguise" in r.criteria[-1].feedback
    r = mark_answer(AIM, "Increase NEWS2 observations on time across the whole trust from 70% to 95% by May 2027.")
    scope = next(c for c in r.criteria if c.id == "scope")
    assert scope.level == 1 and "too big" in scope.feedback


def test_feedback_says_what_earns_the_next_level():
    """Below the top level, is there feedback; at the top, does it say what the marker found (not a verdict)?"""
    r = mark_answer(AIM, "Reduce falls per 1,000 bed days on Ward 9 by a third within 6 months.")
    target = next(c for c in r.criteria if c.id == "target")
    assert target.level == 1 and "baseline" in target.feedback
    direction = next(c for c in r.criteria if c.id == "direction")
    assert direction.certain and direction.feedback == "The marker found what the top level asks for (quoted as evidence)."


def test_evidence_is_quoted_from_the_answer():
    """Is every evidence span words the learner actually wrote?"""
    text = "Reduce the median time to antibiotics on AMU from 95 to 60 minutes by 31 March 2027."
    for c in mark_answer(AIM, text).criteria:
        for span in c.evidence:
            assert span.strip("…") in text


@pytest.mark.parametrize("rubric", [AIM, PDSA, CAP], ids=lambda r: r.id)
@pytest.mark.parametrize("text", ["", "   \n\n ", None])
def test_empty_answers(rubric, text):
    """Does an empty answer get zero with a clear note, not an error?"""
    r = mark_answer(rubric, text)
    assert r.points == 0 and all(c.level == 0 for c in r.criteria)
    assert any("No answer" in n for n in r.notes)


def test_wrong_cell_gets_low_marks_and_a_note():
    """Is a PDSA plan given to the aim rubric marked low, with a note saying it looks like the wrong cell?"""
    pdsa = ("Plan: We will test a sepsis sticker on Ward 7 with 5 patients on Monday.\n"
            "Prediction: 4 of 5 will get antibiotics within an hour.\nDo: done on Monday.\n"
            "Study: 3 of 5 did.\nAct: adapt the sticker.")
    r = mark_answer(AIM, pdsa)
    assert r.points <= 0.4 * r.max_points
    assert any("PDSA plan rather than an aim" in n for n in r.notes)
    r = mark_answer(PDSA, "Increase the percentage of patients assessed on Ward 7 from 60% to 95% by June 2027.")
    assert r.points <= 0.3 * r.max_points and any("looks like an aim" in n for n in r.notes)


def test_very_long_answer():
    """Does a 50,000-word answer give a result with a note, not a crash?"""
    text = ("On Ward 9 we will reduce falls from 8 to 5 per 1,000 bed days by June 2027 and we predict a shift. "
            * 2600)
    assert len(text.split()) > 50_000
    for rubric in (AIM, PDSA, CAP):
        r = mark_answer(rubric, text)
        assert any("very long" in n for n in r.notes)
        assert 0 <= r.points <= r.max_points


@pytest.mark.parametrize("text", [
    "Nous voulons réduire les chutes dans notre service de 30 % d'ici mars 2027 grâce à une nouvelle checklist.",
    "Мы хотим уменьшить количество падений в нашем отделении на треть к марту следующего года.",
    "我们希望在明年三月之前将病房跌倒次数减少三分之一并改善护理质量和病人安全。",
])
def test_non_english(text):
    """Is a non-English answer given a clear note that an educator should read it?"""
    r = mark_answer(AIM, text)
    assert any("not appear to be in English" in n for n in r.notes)


def test_renderings_and_json():
    """Do HTML, Markdown and dict renderings show the table, the provisional status and escape learner text?"""
    r = mark_answer(CAP, "## Aim\nReduce <script>alert(1)</script> falls on Ward 9 from 8 to 5 per 1,000 bed days "
                         "by June 2027.")
    r.criteria[0].evidence = ["a <b> & c"]  # learner words are escaped, whatever they hold
    html = r.to_html()
    assert "<script>" not in html and "<b>" not in html and "a &lt;b&gt; &amp; c" in html
    assert "provisional" in html and html.count("<tr>") == len(r.criteria) + 1
    md = r.to_markdown()
    assert "provisional" in md and md.count("\n| ") == len(r.criteria) + 1
    d = json.loads(json.dumps(r.to_dict()))
    assert d["status"] == "provisional" and len(d["criteria"]) == 10
    assert {"id", "title", "level", "level_label", "points", "max_points", "evidence", "feedback"} <= set(d["criteria"][0])
    assert "Provisional rubric mark" in r.summary_comment()


def test_deterministic():
    """Does the same answer always get the same marks?"""
    text = "## Problem\nOn Ward 9 falls were 8.2 per 1,000 bed days.\n## Aim\nReduce falls by a third by June 2027."
    assert mark_answer(CAP, text).to_dict() == mark_answer(CAP, text).to_dict()


def test_heading_variants_find_their_sections():
    """Are criteria marked on sections with variant headings (Background, What we found, Lessons learned, ...)?"""
    text = ("### Background\nOn Oak Ward 18% of Parkinson's doses were late (audit of 50 charts).\n"
            "**What we were trying to achieve**\nReduce late doses from 18% to 5% by May 2027.\n"
            "3. Discussion\nWe learned that the drug round order mattered.\n"
            "Next steps:\nThe Parkinson's nurse specialist will take over the audit.\n"
            "## Strengths and limitations\nData came from the e-prescribing record only.\n")
    by_id = {c.id: c for c in mark_answer(CAP, text).criteria}
    assert by_id["problem"].section == "Background"
    assert by_id["interpretation"].section == "Discussion"
    assert by_id["sustainability"].section == "Next steps"
    assert by_id["limitations"].section == "Strengths and limitations"
    assert by_id["equity"].section == ""  # no equity heading: marked on the whole report


def test_mark_notebook_cells():
    """Are a notebook's write-up cells marked by the rubric that lists their grade ids?"""
    out = mark_notebook_cells(cells={"smart_aim": "Reduce falls on Ward 3 from 9 to 6 per 1,000 bed days by June 2027.",
                                     "pdsa_plan": "Prediction: 8 of 10 patients will ...", "baseline_median": "x"})
    assert set(out) == {"smart_aim", "pdsa_plan"}
    assert out["smart_aim"].points == out["smart_aim"].max_points


def test_blank_template_and_placeholder_earn_nothing():
    """Does the untouched student cell ('YOUR ANSWER HERE', or the headings alone) score zero?"""
    template = "\n".join(f"## {h}" for h in ("Problem and context", "Aim", "Measures", "Changes", "PDSA cycles",
                                             "Results", "Interpretation", "Equity", "Sustainability", "Limitations"))
    assert mark_answer(CAP, "# My title\n" + template).points == 0
    r = mark_answer(AIM, "YOUR ANSWER HERE")
    assert r.points == 0 and any("No answer" in n for n in r.notes)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(["## Aim\n", "## Results\n", "Plan: ", "**", "_", "`", "|", "- ", "1. ", "\n", " ", "45%",
                           "from 3 to 5", "by March 2027", "on Ward 7", "predict", "shift", "run chart", "<b>", "é",
                           "跌倒", "YOUR ANSWER HERE", "increase", "per 1,000 bed days", "9 out of 10", ".", ":"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40),
       st.sampled_from([None, {}, {"chart_signals": []}, {"chart_signals": ["shift", "trend"]},
                        {"chart_signals": "outside limits"}]))
def test_never_raises_on_any_text(pieces, facts):
    """Does any jumble of Markdown, numbers and scripts give a well-formed result for every rubric?"""
    text = "".join(pieces)
    for rubric in (AIM, PDSA, CAP):
        r = mark_answer(rubric, text, facts)
        assert 0 <= r.points <= r.max_points
        assert all(0 <= c.level <= c.max_level for c in r.criteria)
        json.dumps(r.to_dict())


def test_scaled_points_for_an_nbgrader_cell():
    """Are rubric points scaled to the cell's points (same total: unchanged; half the total: halved)?"""
    r = mark_answer(AIM, "Reduce falls per 1,000 bed days on Ward 9 by a third within 6 months.")
    assert r.points == 9 and r.scaled_points(10) == 9 and r.scaled_points(5) == 4.5
    with pytest.raises(ValueError):
        r.scaled_points(-1)
