"""Regressions for defects the capstone author reported: section choice under a title, and RAG criticism."""

from __future__ import annotations

import pytest

from qicourse.rubric import load_rubric, mark_answer
from qicourse.rubric.detectors import Context, run_detector

CAP = load_rubric("capstone")

PDSA_SECTION = ("Cycle 1 (week 3): two ED nurses tried a sepsis grab bag on 10 patients. We predicted 8 of 10 would "
                "get antibiotics within 60 minutes; 7 of 10 did, so we adapted the bag's contents. Cycle 2 (week 6): "
                "all nurses on the day shift for one week. We predicted 80% within 60 minutes; 84% did, so we "
                "adopted it.")
BODY = ("## Problem and context\nIn our ED 45% of patients with red-flag sepsis got antibiotics within an hour.\n\n"
        "## Aim\nIncrease antibiotics within 60 minutes from 45% to 80% by June 2027.\n\n"
        "## PDSA cycles\n" + PDSA_SECTION + "\n\n"
        "## Results\nThe run chart shows a shift of 8 points above the median after cycle 2.\n")


def _crit(text: str, cid: str, facts=None):
    return next(c for c in mark_answer(CAP, text, facts).criteria if c.id == cid)


def _alone(cid: str, heading: str, body: str):
    return _crit(f"## {heading}\n{body}", cid)


def test_empty_title_naming_a_section_is_not_that_section():
    """Is a title that mentions 'PDSA cycles' (with nothing under it) passed over for the real PDSA section?"""
    c = _crit("# Reducing time to antibiotics with PDSA cycles\n\n" + BODY, "pdsa")
    assert c.section == "PDSA cycles"
    assert c.level == _alone("pdsa", "PDSA cycles", PDSA_SECTION).level


def test_title_with_an_introduction_is_not_the_pdsa_section():
    """Is a title with an introduction under it passed over when a real PDSA heading exists?"""
    text = ("# Reducing time to antibiotics with PDSA cycles\nA project by two FY1 doctors in a district general "
            "hospital ED.\n\n" + BODY)
    c = _crit(text, "pdsa")
    assert c.section == "PDSA cycles"
    assert c.level == _alone("pdsa", "PDSA cycles", PDSA_SECTION).level == 2


def test_variant_heading_beats_a_title_that_also_contains_the_words():
    """Does a variant heading ('5. PDSA cycles and what we predicted') still win over a long title?"""
    text = ("# Faster antibiotics for sepsis through PDSA cycles in the emergency department\nAn FY1 project.\n\n"
            + BODY.replace("## PDSA cycles", "## 5. PDSA cycles and what we predicted"))
    assert _crit(text, "pdsa").section == "PDSA cycles and what we predicted"


def test_empty_heading_is_skipped_for_a_non_empty_variant():
    """Is an empty 'Limitations' heading skipped when 'Strengths and limitations' has the text?"""
    text = (BODY + "\n## Limitations\n\n## Strengths and limitations\nThe audit relied on hand-written triage times, "
            "which may have been recorded late, so the true delay may be underestimated.\n")
    c = _crit(text, "limitations")
    assert c.section == "Strengths and limitations"
    assert c.level == 2


def test_methods_with_only_sub_headings_gives_way_to_them():
    """Does an umbrella 'Methods' heading holding only sub-headings yield to the sub-heading for each criterion?"""
    text = BODY.replace("## PDSA cycles", "## Methods\n\n### Tests of change")
    assert _crit(text, "pdsa").section == "Tests of change"



def test_empty_umbrella_heading_reads_the_whole_answer():
    """Is an empty '### Plan' over inline labels read as an umbrella (whole answer), not swapped for '### Do'?"""
    text = ("### Plan\nObjective: to test a red nil-by-mouth sign.\nWho: the nurse in charge. Where: bay 2, Ward 15. "
            "When: Thursday and Friday.\nPrediction: no more than 1 of the 8 patients will be fasted over 6 hours.\n"
            "### Do\nDone as planned; 3 operations were cancelled.\n### Study\n2 of 3 were fasted over 6 hours, "
            "worse than predicted.\n### Act\nAdapt: cycle 2 will bleep the nurse in charge.")
    c = next(c for c in mark_answer(load_rubric("pdsa_plan"), text).criteria if c.id == "small_scale")
    assert c.section == "" and c.level == 1

# ---- "misreading the chart": RAG ratings and month-on-month comparisons -------------------------------------
#: a learner criticising or avoiding RAG / month-on-month reading: not a misreading
CRITICISING = [
    "We replaced the RAG table with an SPC chart.",
    "A month-on-month comparison would have misled us, so we plotted a run chart.",
    "Instead of month-on-month comparisons we used a run chart with the median.",
    "Rather than a RAG rating, we read the p-chart by its rules.",
    "The divisional RAG status is misleading because it ignores common-cause variation.",
    "We avoided month-on-month comparisons and used the run chart rules.",
    "Unlike the red-amber-green dashboard, the run chart showed when the change happened.",
    "Month-on-month comparisons do not show whether a process has changed.",
    "We did not use the RAG rating because it hides variation.",
]
#: a learner reading the data month on month or by RAG colour: a misreading
MISREADING = [
    "Compliance improved month-on-month, from 62% in March to 71% in April, so the change worked.",
    "The RAG rating moved from red to green in June, which shows the intervention was a success.",
    "Our RAG status turned green after cycle 2, proving the change was an improvement.",
    "Month on month the median time fell, showing the bundle worked.",
    "The red-amber-green table shows we improved because the last month was green.",
    "The RAG status was not red after May, so the change was a success.",
]


@pytest.mark.parametrize("sentence", CRITICISING)
def test_criticising_rag_or_month_on_month_is_not_a_misreading(sentence):
    """Does a sentence that criticises RAG or month-on-month reading leave the results mark intact?"""
    ctx = Context(text=sentence, facts={}, keyword_groups={})
    assert not run_detector("chart.misread", ctx).fired
    text = ("## Results\nThe run chart shows a shift of 8 points above the median after cycle 2 (from 45% to 81% "
            f"of patients). {sentence}")
    c = _crit(text, "results", {"chart_signals": ["shift"]})
    assert c.level == 3, c.feedback


@pytest.mark.parametrize("sentence", MISREADING)
def test_reading_the_chart_by_rag_or_month_on_month_is_a_misreading(sentence):
    """Is a genuine RAG or month-on-month reading still flagged, with its feedback note?"""
    ctx = Context(text=sentence, facts={}, keyword_groups={})
    assert run_detector("chart.misread", ctx).fired
    text = ("## Results\nThe run chart shows a shift of 8 points above the median after cycle 2 (from 45% to 81% "
            f"of patients). {sentence}")
    c = _crit(text, "results", {"chart_signals": ["shift"]})
    assert c.level == 1
    assert "month-on-month" in c.feedback


def test_criticism_in_one_sentence_does_not_excuse_a_misreading_in_another():
    """Is the cue read per sentence, so criticism elsewhere does not hide a real month-on-month reading?"""
    text = ("We replaced the old audit spreadsheet with a run chart. Compliance rose month-on-month from 62% to 71%, "
            "so the change worked.")
    assert run_detector("chart.misread", Context(text=text, facts={}, keyword_groups={})).fired
