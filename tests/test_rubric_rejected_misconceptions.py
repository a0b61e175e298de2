"""Regressions: a learner who names a misconception in order to reject it is not marked as holding it.

Each misreading / misconception detector reads a sentence-level cue (shared helper in
`qicourse.rubric.text`) so "a run chart uses the median, not the mean" or "one good week shows
nothing on its own" keep their marks, while the genuine misreadings are still flagged.
"""

from __future__ import annotations

import pytest

from qicourse.rubric import analyse_smart_aim, load_rubric, mark_answer
from qicourse.rubric.detectors import Context, run_detector

CAP = load_rubric("capstone")
GOOD_RESULTS = ("## Results\nThe run chart shows a shift of 8 points above the median after cycle 2 (from 45% to 81% "
                "of patients). ")


def _misread(text: str, facts=None):
    return run_detector("chart.misread", Context(text=text, facts=facts or {}, keyword_groups={}))


def _results(sentence: str):
    return next(c for c in mark_answer(CAP, GOOD_RESULTS + sentence, {"chart_signals": ["shift"]}).criteria
                if c.id == "results")


# ---- the mean as a run chart's centre line ------------------------------------------------------------------
MEAN_REJECTED = [
    "A run chart uses the median, not the mean, as its centre line.",
    "On the run chart we used the median rather than the mean.",
    "Our run chart's centre line is the median; the mean is used on control charts.",
    "We drew a run chart with the median instead of the mean because a few very late doses skew the mean.",
    "A run chart does not use the mean as its centre line.",
    "It is a common mistake to draw a run chart around the mean.",
]
MEAN_HELD = [
    "The run chart shows the mean line, and most points are above it.",
    "We plotted a run chart with the mean as the centre line and counted points above it.",
    "Points fell below the mean line on the run chart after week 6.",
]

# ---- one point (a single rise or fall) read as a change -----------------------------------------------------
ONE_POINT_REJECTED = [
    "The last week was better, but one good week shows nothing on its own.",
    "A single point does not show a change.",
    "One good month proves nothing; we waited for a shift of six points.",
    "We did not treat each fall as a change, because a single week is usually common-cause variation.",
    "Every rise or fall is not a signal: only the run chart rules tell us that.",
    "A single bad week shows only random variation, not a change in the process.",
]
ONE_POINT_HELD = [
    "One good week shows the new proforma worked.",
    "A single point proves the change was an improvement.",
    "The last week was higher, so the bundle has worked.",
    "Every drop in the chart shows the huddle is working.",
]

# ---- a point beyond the target read as special cause --------------------------------------------------------
TARGET_REJECTED = [
    "A point above the target line is not special cause: targets are not control limits.",
    "Being over our 90% target is not a signal of special cause; the limits come from the data.",
    "We did not treat weeks above the target as special cause.",
]
TARGET_HELD = [
    "Three weeks were above the target line, which is special cause variation.",
    "Week 9 beat our 90% target, a signal that the change worked.",
]

# ---- no point outside the limits read as no change ----------------------------------------------------------
LIMITS_REJECTED = [
    "It would be wrong to say that no points were outside the limits, so nothing changed: the shift is a signal.",
    "A common misreading is that no points outside the limits means the process is in control, so no change.",
]
LIMITS_HELD = [
    "No points were outside the control limits, so there was no change.",
    "None of the points lay beyond the limits, which means nothing changed.",
]

REJECTED = MEAN_REJECTED + ONE_POINT_REJECTED + TARGET_REJECTED + LIMITS_REJECTED
HELD = MEAN_HELD + ONE_POINT_HELD + TARGET_HELD + LIMITS_HELD


@pytest.mark.parametrize("sentence", REJECTED)
def test_rejecting_a_misreading_is_not_a_misreading(sentence):
    """Does a sentence that names a misreading to reject it leave the results mark at the top level?"""
    hit = _misread(sentence)
    assert not hit.fired, hit.spans
    c = _results(sentence)
    assert c.level == 3, c.feedback


@pytest.mark.parametrize("sentence", HELD)
def test_genuine_misreadings_are_still_flagged(sentence):
    """Is a genuine misreading still flagged, and does it cap the results mark?"""
    assert _misread(sentence).fired
    assert _results(sentence).level == 1


def test_rejection_in_one_sentence_does_not_excuse_another():
    """Is the cue read per sentence, so rejecting the mean does not hide a single-point reading next to it?"""
    text = "A run chart uses the median, not the mean. The last week was higher, so the bundle has worked."
    hit = _misread(text)
    assert hit.fired
    assert "single rise or fall" in hit.note and "median, not the mean" not in hit.note


def test_first_mention_rejected_second_held_is_flagged():
    """Is a later genuine misreading found after an earlier rejected mention of the same pattern?"""
    text = ("One good week shows nothing on its own. Later, one good month proves the change worked, we thought.")
    assert _misread(text).fired


# ---- chart signals: "a shift, not a trend" names the shift --------------------------------------------------
@pytest.mark.parametrize("sentence", [
    "The run chart shows a shift, not a trend.",
    "There were 8 points above the median, a shift rather than a trend.",
    "This was not a trend but a shift of 7 points below the median.",
])
def test_signal_named_alongside_a_rejected_one_counts(sentence):
    """Does naming the signal while rejecting another keep the signal (and no misreading)?"""
    ctx = Context(text=sentence, facts={"chart_signals": ["shift"]}, keyword_groups={})
    assert run_detector("chart.signal_correct", ctx).fired
    assert not run_detector("chart.misread", ctx).fired


@pytest.mark.parametrize("sentence", [
    "The run chart shows no shift or trend.",
    "There was no shift, no trend and no point outside the limits.",
])
def test_denied_signals_are_still_not_named(sentence):
    """Is a sentence that denies every signal still read as 'no signal'?"""
    ctx = Context(text=sentence, facts={"chart_signals": []}, keyword_groups={})
    assert run_detector("chart.signal_correct", ctx).fired


# ---- SMART aim: scope and audit named in order to reject them -----------------------------------------------
@pytest.mark.parametrize("aim", [
    "Reduce falls on Ward 7 from 8 to 5 per 1,000 occupied bed days by 30 June 2027, before spreading across "
    "the trust.",
    "Increase the percentage of patients with red-flag sepsis on AMU who get antibiotics within 60 minutes from "
    "45% to 80% by June 2027 (one unit, not the whole hospital).",
    "Increase VTE risk assessment within 14 hours of admission on Ward 12 from 60% to 95% by March 2027, rather "
    "than across the trust at once.",
])
def test_aim_that_rejects_a_big_scope_is_not_too_big(aim):
    """Is an aim for one ward that only mentions the trust to set it aside read as manageable and SMART?"""
    s = analyse_smart_aim(aim)
    assert not s.too_big, s.population
    assert s.is_smart and s.population


def test_scope_named_only_as_later_spread_is_not_the_setting():
    """Is a trust named only as where the change will spread later not taken as the aim's setting?"""
    s = analyse_smart_aim("Reduce falls from 8 to 5 per 1,000 occupied bed days by June 2027, before spreading "
                          "across the trust.")
    assert not s.too_big and s.population is None


@pytest.mark.parametrize("aim", [
    "Reduce falls across the trust from 8 to 5 per 1,000 occupied bed days by 30 June 2027.",
    "Increase VTE risk assessment in every ward in the hospital from 60% to 95% by March 2027.",
    "Improve discharge before noon throughout the whole trust by 2027, not just on Ward 7.",
])
def test_aim_for_a_whole_trust_is_still_too_big(aim):
    assert analyse_smart_aim(aim).too_big


@pytest.mark.parametrize("aim", [
    "Our aim is to improve the timeliness of discharge summaries on Ward 7 - an improvement project, not an audit.",
    "We want faster antibiotics for sepsis in ED rather than another audit.",
])
def test_aim_that_rejects_audit_is_not_an_audit(aim):
    """Is an aim that says it is not an audit spared the 'audit' misconception (and credited with its result)?"""
    s = analyse_smart_aim(aim)
    assert "audit" not in [m.code for m in s.misconceptions]
    assert run_detector("smart.states_result", Context(text=aim, facts={}, keyword_groups={})).fired


@pytest.mark.parametrize("aim", [
    "To audit VTE assessment on Ward 12 against the NICE standard, not the local policy.",
    "Audit of antibiotic timing in ED.",
])
def test_audit_aims_are_still_audits(aim):
    assert "audit" in [m.code for m in analyse_smart_aim(aim).misconceptions]


@pytest.mark.parametrize("aim", [
    "Reduce missed doses on Ward 4, not by introducing a new checklist but by finding out why doses are missed.",
    "Improve time to antibiotics in ED for red-flag sepsis, rather than just introducing a grab bag.",
])
def test_aim_that_rejects_a_solution_is_not_a_solution_in_disguise(aim):
    s = analyse_smart_aim(aim)
    assert "solution_in_disguise" not in [m.code for m in s.misconceptions]


@pytest.mark.parametrize("aim", [
    "To introduce a sepsis grab bag in ED by June 2027.",
    "Implement a new falls checklist on Ward 7, not just teaching.",
])
def test_solution_aims_are_still_solutions_in_disguise(aim):
    assert "solution_in_disguise" in [m.code for m in analyse_smart_aim(aim).misconceptions]
