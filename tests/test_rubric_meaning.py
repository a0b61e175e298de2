"""The marker reads meaning, not keywords: aims in real published forms, report headings as they are really
written, negation and dismissal, lists of terms, claims checked against the learner's own numbers, and
feedback that says what it found and when it is unsure. One test per failure class from the issue."""

from __future__ import annotations

import pandas
import pytest
import yaml

from qicourse.grading.facts import capstone_equity_facts, capstone_facts
from qicourse.rubric import analyse_smart_aim, mark_answer
from qicourse.rubric.marker import guess_kind, locate_sections
from qicourse.rubric.published import evaluate_published
from qicourse.rubric.text import dismissed, is_term_list, sentences


def _level(result, cid):
    return next(c for c in result.criteria if c.id == cid)


# ---------------------------------------------------------------------------------------------
# Reading aims
# ---------------------------------------------------------------------------------------------
def test_quoted_aim_is_kept():
    """Is an aim inside quotation marks (ending ." or .”) read, not dropped?"""
    text = ("The team agreed this aim: “By 30 June 2027, we will increase the percentage of patients on Ward 4 "
            "who get a falls assessment within 24 hours from 40% to 90%.”")
    assert sentences('He said "It rose to 90%." Then it fell.') == ['He said "It rose to 90%."', "Then it fell."]
    a = analyse_smart_aim(text)
    assert a.direction == "increase" and a.target.value == 90 and a.baseline.value == 40
    assert a.time_frame is not None and "30 June 2027" in a.time_frame.text and a.is_smart


def test_aim_sentence_is_the_intent_not_the_number_rich_finding():
    """Is the aim the sentence stating an intent, not the baseline finding with more numbers in it?"""
    text = ("Only 31% of 212 discharge letters in 2025 reached the GP within 24 hours, 12% took over a week and 4% "
            "were never sent. We aim to raise the proportion of letters from the surgical assessment unit reaching "
            "the GP within 24 hours to 85% by 31 March 2027.")
    a = analyse_smart_aim(text)
    assert a.aim_text.startswith("We aim to raise")
    assert a.target.value == 85 and a.direction == "increase"
    assert a.baseline is not None and a.baseline.value == 31  # found as a finding in the other sentence


def test_multi_sentence_aim_keeps_its_measure_and_target():
    """Does an aim that runs on ("Specifically, ...", "increase this to ...") keep its target and measure?"""
    a = analyse_smart_aim("Our aim is to improve the percentage of boarded patients on the ENT ward reviewed daily. "
                          "Specifically, we have set a target of 95% or more by 30 May 2027.")
    assert a.target.value == 95 and a.time_frame is not None and a.measure is not None
    b = analyse_smart_aim("In 2025 a professional interpreter was used for 41% of consultations needing one in the "
                          "antenatal clinic. Over the next 18 months we aim to increase this to 75%.")
    assert b.measure is not None and "consultations" in b.measure and b.target.value == 75
    assert b.baseline.value == 41 and b.time_frame.kind == "duration" and b.population is not None


@pytest.mark.parametrize("aim,where", [
    ("Reduce violent incidents on the 3 older adult wards by 25% by June 2027.", "3 older adult wards"),
    ("Across our four diabetes clinics, increase foot checks recorded from 64% to 85% within 9 months.",
     "four diabetes clinics"),
    ("Reduce falls in 2 care homes from 9 to 5 per 1,000 resident days by May 2027.", "care homes"),
    ("For our inpatients on the frailty unit, reduce disturbed nights from 70% to 40% by July 2027.", "frailty unit"),
    ("Lower unplanned extubations in a 30-cot NICU from 0.8 to 0.5 per 100 ventilator days by 2027.", "NICU"),
    ("Raise the admission temperature of preterm babies born under 33 weeks to above 36°C by 2027.", "babies born"),
])
def test_settings_in_plural_numbered_and_group_forms(aim, where):
    """Are plural places, numbers or adjectives before the place, and patient groups read as the setting?"""
    a = analyse_smart_aim(aim)
    assert a.population is not None and where.lower() in a.population.lower() and not a.too_big


@pytest.mark.parametrize("aim", [
    "At a large teaching hospital, we aim to increase medicines reconciled within 24 hours from 55% to 80% by 2027.",
    "Continue to reduce our delayed discharge rate for all patients to 14% by December 2026.",
    "Working with 12 care homes across the county, we aim to reduce falls by 20% over a 12-month period.",
])
def test_whole_hospital_or_more_is_too_big(aim):
    """Is a whole hospital, every patient or a county read as a scope too big for a rotation project?"""
    assert analyse_smart_aim(aim).too_big


def test_length_of_stay_is_not_a_place():
    """Is "length of hospital stay" a measure rather than the setting?"""
    a = analyse_smart_aim("Reduce the mean length of hospital stay from 9 to 7 days by June 2027.")
    assert a.population is None or "stay" not in a.population.lower()


@pytest.mark.parametrize("aim,word", [
    ("We aim to increase correct utilisation of bed nets in one village from 38% to 80% within 4 weeks.", "utilisation"),
    ("The purpose is to minimise the inappropriate use of physical restraint on the respiratory unit.", "restraint"),
    ("We aim to raise the rate of video interpreter use in our emergency department by 50% by August 2026.",
     "interpreter use"),
])
def test_measures_beyond_a_small_vocabulary(aim, word):
    """Are measures such as utilisation, use of restraint and interpreter use recognised?"""
    a = analyse_smart_aim(aim)
    assert a.measure is not None and word in a.measure


@pytest.mark.parametrize("aim,kind,words", [
    ("Between July 2026 and March 2028 we aimed to reduce falls on Ward 2 from 8 to 5 per 1,000 bed days.", "date",
     "March 2028"),
    ("We aimed to reduce incidents on Ashby Ward by 25% over a 2-year period.", "duration", "2-year"),
    ("Aim: 90% of patients on the stroke unit to have a swallow screen within 4 hours by 03/2027 (baseline 61%).",
     "date", "03/2027"),
    ("This year we want to cut the number of missed insulin doses on the diabetes ward by half.", "event",
     "This year"),
])
def test_time_frames_as_ranges_durations_numeric_dates_and_this_year(aim, kind, words):
    """Are ranges, durations with "a", numeric month dates and "this year" read as time frames?"""
    tf = analyse_smart_aim(aim).time_frame
    assert tf is not None and tf.kind == kind and words.lower() in tf.text.lower()


def test_temperature_range_baseline_period_and_start_date_are_not_deadlines():
    """Is a temperature range, a baseline period or a start date kept out of the time frame?"""
    assert analyse_smart_aim("To keep 90% of admissions at 36.5-37.5°C on our neonatal unit.").time_frame is None
    a = analyse_smart_aim("Purpose: to lower unplanned extubations from 0.82 to below 0.5 per 100 ventilator days in "
                          "our NICU. The bundle was first tested on 9 January 2026.")
    assert a.time_frame is None and not a.is_smart
    b = analyse_smart_aim("We aim to raise interpreter use in our ED by 50%. In the baseline period (October 2024 "
                          "to March 2025) interpreters were used in 4.8% of attendances.")
    assert b.time_frame is None


def test_direction_is_the_intent_not_the_problem():
    """Is the direction taken from the aim's verb, not from words describing the problem or "improve"?"""
    a = analyse_smart_aim("Delays in discharge letters have increased since the new record went live. Our aim is "
                          "to reduce the median delay on the surgical unit from 3 days to 1 day by April 2027.")
    assert a.direction == "decrease"
    b = analyse_smart_aim("We aim to improve equitable care in our ED by raising the rate of interpreter use by 50% "
                          "by August 2026.")
    assert b.direction == "increase"
    c = analyse_smart_aim("Ensure that by March 2027, 85% of admissions to Ward 6B receive a welcome on arrival.")
    assert c.direction is None  # a level to reach with no baseline and no verb of change


def test_is_smart_follows_lesson_3():
    """Is an aim with no baseline, or only an event deadline, not SMART, as lesson 3 and m3 teach?"""
    assert not analyse_smart_aim("We aim to increase VTE assessment on AMU to 95% by August 2027.").is_smart
    assert not analyse_smart_aim("Increase VTE assessment on AMU from 60% to 95% by the end of my rotation.").is_smart
    assert analyse_smart_aim("Increase VTE assessment on AMU from 60% to 95% by August 2027.").is_smart


def test_solution_in_disguise_with_numbers():
    """Is "introduce a grab bag and train 100% of nurses" still a solution in disguise, scored well below 8/10?"""
    r = mark_answer("smart_aim", "To introduce a sepsis grab bag on AMU and train 100% of nurses to use it by June "
                                 "2027.")
    assert _level(r, "outcome_focus").level == 0 and r.points <= 7
    ok = mark_answer("smart_aim", "By June 2027 reduce the median time to antibiotics on AMU from 90 to 60 minutes, "
                                  "starting with a grab bag.")
    assert _level(ok, "outcome_focus").level == 1


# ---------------------------------------------------------------------------------------------
# Report headings
# ---------------------------------------------------------------------------------------------
def test_headings_in_their_real_forms():
    """Are run-in, capitals, bold run-in, colon and "Aim statement" / "Measures & design" headings mapped?"""
    text = ("Background This ward had 40 falls in 2025.\n"
            "AIM We aimed to reduce falls by a third by June 2027.\n"
            "**Measures & design** Outcome: falls per 1,000 bed days. Process: % with a falls assessment.\n"
            "Design/Methods: we tested a bedside prompt in two PDSA cycles.\n"
            "Implications for Practice: prompts work.\n")
    found = locate_sections("capstone", text)
    assert found["problem"].heading == "Background"
    assert found["aim"].heading == "AIM"
    assert found["measures"].heading == "Measures & design"
    assert found["changes"].heading == "Design/Methods"
    assert found["interpretation"].heading.startswith("Implications")


def test_generic_methods_heading_is_read_only_when_it_holds_the_content():
    """Is a "Methods" section that holds no measures not taken as the Measures section?"""
    text = "Background: falls are common.\nMethods: a team wrote a new falls guideline and taught it to nurses.\n"
    assert locate_sections("capstone", text)["measures"] is None


def test_imrad_report_is_not_called_a_pdsa_plan():
    """Is a report under IMRaD headings recognised as a report even when it talks about PDSA cycles?"""
    body = " ".join(["We ran PDSA cycles with predictions and studied each one."] * 8)
    text = f"## Introduction\n{body}\n## Methods\n{body}\n## Results\n{body}\n## Discussion\n{body}\n"
    assert guess_kind(text) == "report"
    assert not any("PDSA plan" in n for n in mark_answer("capstone", text).notes)


# ---------------------------------------------------------------------------------------------
# Meaning: negation, dismissal, substance, predictions
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sentence,term,expected", [
    ("No balancing measure was needed because the change was simple.", "balancing measure", True),
    ("Balancing measure: we did not collect one.", "Balancing measure", True),
    ("Regression to the mean cannot explain the fall.", "Regression to the mean", True),
    ("We cannot rule out regression to the mean.", "regression to the mean", False),
    ("Our balancing measure was length of stay, which did not change.", "balancing measure", False),
])
def test_negation_and_dismissal(sentence, term, expected):
    """Is a negated or dismissed mention told apart from a real one (and a double negative kept)?"""
    i = sentence.index(term)
    assert dismissed(sentence, i, i + len(term)) is expected


def test_dismissed_balancing_measure_is_not_credited_and_feedback_is_unsure():
    """Does "no balancing measure was needed" earn no credit for one, and does feedback say to check, not "met"?"""
    text = ("## Measures\nOutcome measure: median minutes to antibiotics. Process measure: % with the proforma. "
            "No balancing measure was needed because the change was simple.\n")
    c = _level(mark_answer("capstone", text), "measures")
    assert c.level == 2 and not c.certain
    assert "negates or dismisses" in c.feedback and "top level" not in c.feedback.lower()


def test_keyword_list_earns_nothing():
    """Does a list of terms covering every section earn no credit, with a note saying why?"""
    kw = ("Problem: sepsis, AMU, delay, baseline median 92 minutes. Aim: SMART, reduce, median, 31 March 2027. "
          "Measures: outcome measure, process measure, balancing measure, numerator, denominator. Changes: fishbone, "
          "grab bag, proforma, root causes. PDSA: PDSA 1, PDSA 2, prediction, adapt. Results: p chart, shift, "
          "special cause, week 6. Interpretation: learning, regression to the mean, secular trend. Equity: IMD "
          "quintile, deprivation, gap narrowed. Sustainability: induction, ward manager owns, monthly audit. "
          "Limitations: data quality, single site, confounding, cannot attribute.")
    assert is_term_list(kw) and not is_term_list("We measured the time in minutes from the trigger to the dose.")
    r = mark_answer("capstone", kw, {"chart_signals": ["shift"]})
    assert r.points == 0 and any("list of terms" in n for n in r.notes)


def test_prediction_needs_a_number_and_must_come_before():
    """Is "all" not a number in a prediction, and is a prediction told in hindsight not credited?"""
    plan = "Plan: test the sticker on 10 patients. Prediction: we predict all staff will like the sticker."
    assert _level(mark_answer("pdsa_plan", plan), "prediction").level == 1
    hindsight = "Plan: test the sticker on 10 patients. Study: 8 of 10 had it, as we expected all along."
    assert _level(mark_answer("pdsa_plan", hindsight), "prediction").level == 0


# ---------------------------------------------------------------------------------------------
# Claims against the learner's own numbers
# ---------------------------------------------------------------------------------------------
EQUITY = ("## Equity\nWe stratified by IMD quintile: the gap between the most and least deprived narrowed after the "
          "changes.\n")


def test_equity_claim_checked_against_the_learners_table():
    """Is "the gap narrowed" kept off the top level, with the learner's numbers, when their table shows it widened?"""
    widened = {"equity_gap_before": 10.0, "equity_gap_after": 16.0, "equity_gap_change": "widened"}
    c = _level(mark_answer("capstone", EQUITY, widened), "equity")
    assert c.level == 1 and not c.certain and "widened (from 10 to 16 percentage points)" in c.feedback
    narrowed = dict(widened, equity_gap_after=4.0, equity_gap_change="narrowed")
    assert _level(mark_answer("capstone", EQUITY, narrowed), "equity").level == 2
    negated = EQUITY.replace("narrowed after the changes", "did not narrow; it widened")
    assert _level(mark_answer("capstone", negated, widened), "equity").level == 2


def test_equity_facts_from_the_notebook():
    """Does the capstone probe read the IMD 1 vs 5 gap before and after from `equity_percent`?"""
    df = pandas.DataFrame({"before": [50.0, 55, 58, 60, 62], "after": [60.0, 70, 75, 78, 80]}, index=[1, 2, 3, 4, 5])
    facts = capstone_equity_facts({"equity_percent": df})
    assert facts == {"equity_gap_before": 12.0, "equity_gap_after": 20.0, "equity_gap_change": "widened"}
    assert capstone_equity_facts({"equity_percent": df.rename(columns={"after": "post"})}) is None
    assert capstone_equity_facts({"equity_percent": [1, 2]}) is None
    assert capstone_facts({}) is None and capstone_facts({"equity_percent": df})["equity_gap_change"] == "widened"


def test_run_chart_misreading_is_not_credited_as_naming_a_signal():
    """Is a signal the learner's chart does not show (a target line read as special cause) not credited?"""
    text = ("Using Anhøj's rules, week 9 was above the target line, which is special cause, so the bundle worked. "
            "There is a shift of 8 weeks above the median.")
    r = mark_answer("run_chart_interpretation", text, {"chart_signals": ["shift"]})
    assert _level(r, "rules_and_signals").level == 0


def test_problem_statement_citing_a_standard_and_a_rate():
    """Is a cited standard not a proposed solution, and is "7.1/1000 OBD" a quantified rate?"""
    text = ("On Ward 7, older inpatients had 7.1 falls/1000 OBD between April 2025 and March 2026, above the "
            "national average; falls cause fractures and loss of independence. NICE says a multifactorial falls "
            "risk assessment should be done for every older inpatient.")
    r = mark_answer("problem_statement", text)
    assert _level(r, "no_solution").level == 1 and _level(r, "quantified_baseline").level == 1
    proposes = text + " We need to introduce a falls proforma."
    assert _level(mark_answer("problem_statement", proposes), "no_solution").level == 0


# ---------------------------------------------------------------------------------------------
# Agreement on a published corpus
# ---------------------------------------------------------------------------------------------
def test_published_corpus_agreement(tmp_path):
    """Does the corpus evaluation report element agreement, the verdict, section recall and precision, QWK?"""
    aims = {"rubric": "smart_aim", "items": [
        {"id": "A1", "text": "Increase VTE assessment on AMU from 60% to 95% by August 2027.",
         "smart": {"setting": {"present": True}, "measure": {"present": True}, "target": {"present": True},
                   "baseline": {"present": True}, "direction": {"present": True},
                   "time_frame": {"present": True}, "verdict": "SMART"},
         "hand": {"direction": [1, "x"], "measure": [2, "x"], "target": [2, "x"], "time_frame": [2, "x"],
                  "scope": [2, "x"], "outcome_focus": [1, "x"]}}]}
    (tmp_path / "aims_dev.yaml").write_text(yaml.safe_dump(aims))
    out = evaluate_published(tmp_path / "aims_dev.yaml")
    assert out["smart"]["elements"]["baseline"] == 1.0 and out["smart"]["verdict"] == 1.0
    assert out["marks"]["distance"][0]["distance"] == 0
    abstracts = {"rubric": "capstone", "items": [
        {"id": "B1", "text": "Background: falls are common on Ward 2.\nResults: falls fell from 9 to 5.\n",
         "sections": {"problem": ["Background:"], "results": ["Results:"]},
         "absent": ["aim", "measures", "changes", "pdsa", "interpretation", "equity", "sustainability",
                    "limitations"]}]}
    (tmp_path / "abstracts_dev.yaml").write_text(yaml.safe_dump(abstracts))
    sec = evaluate_published(tmp_path / "abstracts_dev.yaml")["sections"]
    assert sec["recall"] == 1.0 and sec["precision"] == 1.0
    (tmp_path / "bad.yaml").write_text("just text")
    with pytest.raises(ValueError, match="not a corpus file"):
        evaluate_published(tmp_path / "bad.yaml")


# ---------------------------------------------------------------------------------------------
# More classes: rejected clauses, activity counts, short keyword lists, undecided acts, headings
# ---------------------------------------------------------------------------------------------
def test_rejected_clause_gives_no_elements():
    """Are the numbers and date of a clause the aim rejects ("not to cut ... but simply to improve ...") not read?"""
    a = analyse_smart_aim("Our aim is not to cut the time to antibiotics on AMU from 95 to 60 minutes by June 2027 - "
                          "that would be too ambitious - but simply to improve sepsis care on the unit.")
    assert a.target is None and a.baseline is None and a.time_frame is None and a.direction is None


def test_activity_count_is_a_solution_in_disguise():
    """Is an aim that counts work done (stickers printed) a solution in disguise even when SMART on paper?"""
    r = mark_answer("smart_aim", "To increase the number of sepsis stickers printed for AMU from 200 to 500 a month "
                                 "by 30 June 2027.")
    assert _level(r, "outcome_focus").level == 0


def test_hospital_scope_and_a_ward_inside_it():
    """Is "at our district general hospital" too big, but "on Ward 7 at our district general hospital" not?"""
    assert analyse_smart_aim("For patients aged 75 and over, raise delirium screening from 35% to 80% over a "
                             "2-year period at our district general hospital.").too_big
    a = analyse_smart_aim("Raise delirium screening on Ward 7 at our district general hospital from 35% to 80% by "
                          "June 2027.")
    assert not a.too_big and "Ward 7" in a.population


def test_short_keyword_aim_earns_nothing():
    """Does a one-line list of aim words with numbers and a date earn nothing?"""
    r = mark_answer("smart_aim", "SMART aim: increase reduce measure baseline target percentage 60% 90% by 31 March "
                                 "2027 ward AMU patients outcome.")
    assert r.points == 0


def test_undecided_act_and_missing_prediction():
    """Is "we have not decided yet whether to adopt, adapt or abandon" no decision, and "we did not write a
    prediction" under a Prediction heading no prediction?"""
    text = ("Plan: FY1s on Ward 10 will try a discharge checklist on Monday.\nPrediction: We did not write a "
            "prediction.\nAct: We have not decided yet whether to adopt, adapt or abandon it.")
    r = mark_answer("pdsa_plan", text)
    assert _level(r, "prediction").level == 0 and _level(r, "act").level == 0


def test_sentence_with_a_colon_is_not_a_heading():
    """Is "Equity was considered: ..." read as text under the Equity heading, not as a new heading?"""
    text = "## Equity\nEquity was considered: the bag will benefit every patient equally.\n"
    assert locate_sections("capstone", text)["equity"].heading == "Equity"


def test_no_signal_leaves_nothing_to_link():
    """When the learner's chart shows no signal, is the top results level (signals linked to changes) out of reach?"""
    text = ("## Methods\nWe plotted a p chart of the weekly percentage.\n## Results\nThe chart shows no signal: no "
            "point outside the limits and no run of 8 weeks. After PDSA 2 the percentage was 49% (47% before).\n")
    r = mark_answer("capstone", text, {"chart_signals": []})
    assert _level(r, "results").level == 2  # the chart is named in Methods and read correctly


def test_signals_checked_by_the_rule_set_named():
    """Is a 6-point shift right when the learner reads the chart by IHI rules, and a misreading by Anhøj's?"""
    facts = {"chart_signals": [], "longest_run": 6, "longest_run_max": 8, "longest_trend": 3, "n_outside_limits": 0}
    ihi = ("## Results\nOn the run chart, by the IHI rules, there is a shift: 6 consecutive weeks below the median "
           "after PDSA 2.\n")
    assert _level(mark_answer("capstone", ihi, facts), "results").level >= 2
    anhoej = ihi.replace("the IHI rules", "Anhøj's rules")
    assert _level(mark_answer("capstone", anhoej, facts), "results").level == 1
