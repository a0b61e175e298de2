"""General mechanisms of the SMART analyser: each is tested on phrasings no rule was written for."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from qicourse.rubric import analyse_smart_aim

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("aim, setting", [
    ("Reduce the mean turnaround time for haematology samples in the pathology laboratory from 4 to 2 hours by "
     "June 2027.", "pathology laboratory"),
    ("Increase the proportion of discharge prescriptions screened in the dispensary from 40% to 80% by May 2027.",
     "dispensary"),
    ("Among residents of four care homes in Barnet, we set out to cut hospital admissions for falls by 40% over "
     "18 months.", "residents of four care homes"),
    ("To achieve 90% uptake of the flu vaccine among pregnant women by Q4 2026.", "pregnant women"),
    ("The community mental health team aims to halve missed appointments per month by September 2026.",
     "community mental health team"),
])
def test_setting_is_a_noun_phrase_headed_by_a_place_service_or_patient_group(aim: str, setting: str) -> None:
    """Is a setting found from its head noun (laboratory, dispensary, homes, women, team) after a preposition or
    as the subject, whatever the words before the head?"""
    a = analyse_smart_aim(aim)
    assert a.population is not None and setting in a.population, a.spans


@pytest.mark.parametrize("aim", [
    "Among staff, we set out to cut hospital admissions for falls by 40% over 18 months.",
    "The QI team aims to halve missed appointments per month by September 2026.",
])
def test_no_setting_from_a_verb_or_the_improvement_team(aim: str) -> None:
    """Are "to cut hospital admissions" (a verb, not a place) and "the QI team" (who improves, not where) no setting?"""
    assert analyse_smart_aim(aim).population is None


@pytest.mark.parametrize("aim, measure", [
    ("We aimed to reduce unplanned extubations to zero on the neonatal intensive care unit within 12 months.",
     "unplanned extubations"),
    ("Aim: eliminate wrong-site blocks in orthopaedic theatres by June 2026.", "wrong-site blocks"),
])
def test_measure_is_the_noun_phrase_the_verb_governs(aim: str, measure: str) -> None:
    """Is the measure the plural noun phrase after the verb of change, ending before the target or the setting?"""
    assert analyse_smart_aim(aim).measure == measure


def test_a_topic_after_the_verb_is_no_measure() -> None:
    """Is "improve outcomes" still only a topic, not a measure?"""
    assert analyse_smart_aim("To improve outcomes for patients with COPD on Ward 3.").measure is None


@pytest.mark.parametrize("aim, value, kind", [
    ("We set out to bring omitted doses down to zero on Ward 4 within 6 months.", 0, "absolute"),
    ("Our goal was a 15-percentage-point rise in medicines reconciliation within 24 hours on the AMU within "
     "6 months.", 15, "difference"),
])
def test_zero_and_point_changes_are_targets(aim: str, value: float, kind: str) -> None:
    """Are "down to zero" (a level) and "a 15-percentage-point rise" (a change in points) numeric targets?"""
    t = analyse_smart_aim(aim).target
    assert t is not None and t.value == value and t.kind == kind


@pytest.mark.parametrize("aim, words", [
    ("Raise the proportion of women offered contraception advice on the postnatal ward from 30% to 80% by the end of "
     "the 2026/27 financial year.", "2026/27"),
    ("Keep door-to-needle times under 60 minutes on the stroke unit from 70% to 90% throughout 2027.",
     "throughout 2027"),
    ("Increase the proportion of patients screened on Ward 6 from 40% to 80% by month 6.", "month 6"),
])
def test_financial_years_whole_years_and_project_months_are_time_frames(aim: str, words: str) -> None:
    """Are a financial year, a whole calendar year and "by month 6" read as a date or duration?"""
    tf = analyse_smart_aim(aim).time_frame
    assert tf is not None and words in tf.text and tf.kind in ("date", "duration")


@pytest.mark.parametrize("aim, big", [
    ("Reduce did-not-attend rates across 30 general practices from 9% to 6% by March 2027.", True),
    ("Increase flu vaccine uptake in two hospitals from 50% to 75% by March 2027.", True),
    ("Reduce omitted doses on our six older adult wards from 2% to 1% by March 2027.", False),
    ("Reduce omitted doses on the 3 acute wards from 2% to 1% by March 2027.", False),
])
def test_a_count_of_places_is_too_big_beyond_one_service(aim: str, big: bool) -> None:
    """Are several hospitals, or more wards or practices than one service runs, too big, and a few wards not?"""
    a = analyse_smart_aim(aim)
    assert a.population is not None and a.too_big is big, a.spans


def test_a_proper_noun_place_is_a_setting() -> None:
    """Is a named place ("the Acute Day Unit") a setting with no preposition of place before it?"""
    a = analyse_smart_aim("Make sure 60% of service users attending the Acute Day Unit have a physical health check.")
    assert a.population is not None and "Acute Day Unit" in a.population


@pytest.mark.parametrize("aim, measure", [
    ("Our goal: to bring down severe postpartum haemorrhage after vaginal birth on the labour ward by 50 per cent.",
     "severe postpartum haemorrhage after vaginal birth"),
    ("The team aimed for a 50% decrease in unnecessary interventions for infants with bronchiolitis by March 2027.",
     "unnecessary interventions for infants with bronchiolitis"),
    ("The laboratory aims to bring its rejection rate under the 1% threshold by March 2027.", "its rejection rate"),
    ("Objectives: to improve how long children in pain at our minor injuries unit wait for analgesia.",
     "how long children in pain"),
])
def test_measure_from_a_quantified_noun_phrase_a_measure_noun_or_how_long(aim: str, measure: str) -> None:
    """Is the measure found when a number is put on the noun phrase the verb governs, when a noun phrase is headed
    by a measure noun (rate), or when it is asked as "how long ..."?"""
    a = analyse_smart_aim(aim)
    assert a.measure is not None and measure in a.measure, a.spans


def test_time_taken_off_an_interval_is_direction_target_and_measure() -> None:
    """Does "take ten minutes off the time from X to Y" give a decrease, a 10-minute change and the interval?"""
    a = analyse_smart_aim("Our first goal was to take ten minutes off the time from a CT scan being requested to the "
                          "scan being done.")
    assert a.direction == "decrease" and a.target is not None and a.target.value == 10
    assert a.target.kind == "difference" and a.measure is not None and a.measure.startswith("time from a CT scan")


def test_a_long_wait_is_no_measure() -> None:
    """Is "patients often wait a long time for analgesia" (a problem, no quantity) still no measure?"""
    a = analyse_smart_aim("Patients on our surgical ward often wait a long time for analgesia after theatre. I would like "
                          "to make this better by teaching the nursing staff.")
    assert a.measure is None, a.spans

@pytest.mark.parametrize("text, value", [
    ("Complete screening stood at 21% of newborn visits. We aim to raise it to 90% on Ward 2 by May 2027.", 21),
    ("We reasoned that shortening block preparation, which averaged 65 minutes, would cut late starts by June 2027.",
     65),
    ("On our wards, 1.1% of prescribed doses were missed. We set out to bring omitted doses down to zero within "
     "6 months.", 1.1),
    ("None of the 140 people on our caseload had a health check on record. We aim to offer every one a check by "
     "June 2027.", 0),
])
def test_baseline_from_a_verb_of_state_a_share_or_none_of(text: str, value: float) -> None:
    """Is the current level found when stated as "stood at", "averaged", "N% of ... were" or "none of the N"?"""
    b = analyse_smart_aim(text).baseline
    assert b is not None and b.value == value


def test_a_finding_clause_is_not_the_aim() -> None:
    """In "X rejected 1.5% of specimens in 2025; we aimed to lower ... to 1.2%", is 1.5% the baseline, 1.2% the
    target, and the finding's year no time frame?"""
    a = analyse_smart_aim("In 2025 our laboratory rejected 1.5% of specimens received; during a year-long campaign "
                          "(April 2026 to March 2027) we aimed to lower the monthly rejection rate to 1.2% or less.")
    assert a.baseline is not None and a.baseline.value == 1.5
    assert a.target is not None and a.target.value == 1.2
    assert a.time_frame is not None and "March 2027" in a.time_frame.text


def test_a_number_in_a_which_was_clause_is_no_target() -> None:
    """Is "documented ..., which was complete for 47% of patients" a baseline rather than a target?"""
    a = analyse_smart_aim("On the acute admissions unit we aimed to improve how reliably medication is documented on "
                          "discharge summaries, which was complete for 47% of patients.")
    assert a.target is None and a.baseline is not None and a.baseline.value == 47


@pytest.mark.parametrize("aim, found", [
    ("In January 2026 the office launched a restraint reduction initiative on two wards.", None),
    ("The initiative aimed to shorten length of stay on the children's ward over the 2025-26 and 2026-27 seasons.",
     "2025-26"),
    ("Our aim was to offer every patient on the caseload a health check, testing four changes through 2026.",
     "through 2026"),
])
def test_start_dates_are_no_deadline_but_seasons_and_years_are(aim: str, found: str | None) -> None:
    """Is a date that says when the work started no time frame, while "over the 2025-26 seasons" and "through
    2026" are?"""
    tf = analyse_smart_aim(aim).time_frame
    assert (tf.text if tf else None) == found or (found and tf and found in tf.text)

@pytest.mark.parametrize("aim, target", [
    ("Over six weeks we aimed to screen every child aged 2 to 36 months attending a well-child visit.", 100),
    ("To make sure every patient gets their medicines on time.", None),
    ("To reduce falls for all patients on Ward 3 by 20% by June 2027.", 20),
])
def test_every_member_of_a_group_acted_on_is_a_target_of_all(aim: str, target: float | None) -> None:
    """Is "to screen every child" a target of 100%, while a wish ("make sure every patient") and a setting ("for all
    patients on Ward 3") are not?"""
    t = analyse_smart_aim(aim).target
    assert (t.value if t else None) == target


def test_the_place_that_owns_the_aim_is_its_setting_not_the_hospital_before() -> None:
    """When the sentence before names "our hospital", is "The haematology laboratory aims ..." the (manageable)
    setting?"""
    a = analyse_smart_aim("Samples at our hospital were rejected at 3.4% last quarter. The haematology laboratory aims "
                          "to bring its rejection rate under 1% by March 2027.")
    assert a.population is not None and "haematology laboratory" in a.population and not a.too_big


@pytest.mark.parametrize("aim", [
    "To shorten length of stay for infants with bronchiolitis on the children's ward by March 2027.",
    "To raise staff adherence to the bronchiolitis guideline on the children's ward by March 2027.",
])
def test_length_of_stay_and_adherence_are_countable(aim: str) -> None:
    """Are a length of stay (a time) and adherence (a share of cases) countable measures?"""
    from qicourse.rubric.smart import measure_countable
    assert measure_countable(analyse_smart_aim(aim))


def test_make_sure_is_not_a_change_to_make() -> None:
    """Is "make sure that at least 60% of service users have ..." a result, not a solution in disguise?"""
    a = analyse_smart_aim("My aim was to make sure that at least 60% of service users attending the Acute Day Unit "
                          "have a completed screening entry in their notes.")
    assert "solution_in_disguise" not in {m.code for m in a.misconceptions}


def test_an_audit_period_is_no_deadline() -> None:
    """Is the period of an audit that showed the problem ("An audit of November 2025 to January 2026 showed ...") no
    time frame for the aim after it?"""
    a = analyse_smart_aim("An audit of November 2025 to January 2026 showed that infants were still having chest "
                          "X-rays. Our aim was to cut unnecessary investigations in these infants.")
    assert a.time_frame is None

@pytest.mark.parametrize("aim, direction, measure", [
    ("The team decided to standardise lower leg wound care and cut inappropriate home visits.", "decrease",
     "inappropriate home visits"),
    ("Our aim was to improve patient care by cutting unnecessary investigations in these infants.", "decrease",
     "unnecessary investigations"),
])
def test_direction_comes_from_the_verb_that_governs_the_measure(aim: str, direction: str, measure: str) -> None:
    """Is the measure the phrase a later verb governs ("... and cut X", "improve care by cutting X"), and the
    direction that verb's, not an adjective ("lower leg") or a topic verb before it?"""
    a = analyse_smart_aim(aim)
    assert a.direction == direction and a.spans["direction"].lower().startswith("cut")
    assert a.measure is not None and a.measure.startswith(measure)

@pytest.mark.parametrize("text", [
    "Patients with leg wounds account for more than half of the 1,900 home visits our nursing team makes each month. "
    "The team decided to standardise wound care and cut inappropriate home visits.",
    "Many visits seem unnecessary, and 1,900 are made each month. The service sought to cut inappropriate home visits.",
])
def test_decided_and_sought_to_mark_the_aim_sentence(text: str) -> None:
    """Is a sentence saying what a team "decided to" or "sought to" do read as the aim, not the finding before it?"""
    a = analyse_smart_aim(text)
    assert "cut inappropriate home visits" in a.aim_text and a.measure == "inappropriate home visits"


@pytest.mark.parametrize("aim", [
    "The purpose of this project was to have the triage nurse screen every adult arriving at the department.",
    "Aim: to evaluate what a quality improvement programme did to missed appointment rates in our practice.",
])
def test_a_task_or_an_evaluation_is_not_a_result(aim: str) -> None:
    """Are "to have the triage nurse screen ..." (a task) and "to evaluate ..." (a study) solutions, not results?"""
    assert "solution_in_disguise" in {m.code for m in analyse_smart_aim(aim).misconceptions}


def test_both_hospital_sites_is_too_big() -> None:
    """Is "across both hospital sites" two hospitals, too big for one project?"""
    assert analyse_smart_aim("A 10% reduction in readmissions within 30 days across both hospital sites.").too_big

@pytest.mark.parametrize("text, measure", [
    ("Objective: to test whether a new approach could reduce antipsychotic prescribing in 2 care homes, using the "
     "proportion of residents given an antipsychotic without psychosis as the main measure.",
     "the proportion of residents given an antipsychotic without psychosis"),
    ("We aim to speed up sepsis care on AMU. The primary outcome measure will be the median time to antibiotics.",
     "the median time to antibiotics"),
])
def test_a_measure_named_as_the_main_measure_is_the_measure(text: str, measure: str) -> None:
    """When the text names its main or primary measure, is that (countable) phrase the measure?"""
    a = analyse_smart_aim(text)
    assert a.measure == measure


def test_a_percentage_goal_names_its_measure() -> None:
    """Is "to reach the national 90% influenza vaccination goal" a measure of vaccination, countable as a share?"""
    from qicourse.rubric.smart import measure_countable
    a = analyse_smart_aim("The objective was to reach the national 90% influenza vaccination goal among our staff.")
    assert a.measure is not None and "influenza vaccination" in a.measure and measure_countable(a)

def test_a_question_is_answered_by_the_sentence_after_it() -> None:
    """When the aim sentence is a prompt ("What does the project aim to achieve?"), is the answer after it read?"""
    a = analyse_smart_aim("Letters wait 1.6 days before they are typed. What does the project aim to achieve? Patients "
                          "will receive accurate clinic letters more quickly.")
    assert "more quickly" in a.aim_text and a.direction == "decrease"

@pytest.mark.parametrize("aim", [
    "To develop and launch a new falls e-learning module for ward staff by June 2026.",
    "Patients will wait less than 2 hours in the emergency department.",
])
def test_ward_staff_is_no_setting_and_less_than_no_verb_of_change(aim: str) -> None:
    """Are "ward staff" (people, not a place) no setting and "less than 2 hours" (a comparator) no measure phrase?"""
    a = analyse_smart_aim(aim)
    assert "ward" not in (a.population or "") and not (a.measure or "").startswith("than")

@pytest.mark.parametrize("aim, group", [
    ("Practice teams will test changes so that 90% of children seen at their 2-year reviews are screened by June 2027.",
     "children seen at their 2-year reviews"),
    ("We aim for 80% of women booked at the antenatal clinic to be offered CO testing by June 2027.",
     "antenatal clinic"),
])
def test_a_group_defined_by_where_it_is_seen_is_a_setting(aim: str, group: str) -> None:
    """Is a patient group defined by where it is seen ("children seen at their reviews") a setting, even inside the
    measure?"""
    a = analyse_smart_aim(aim)
    assert a.population is not None and group in a.population, a.spans

@pytest.mark.parametrize("text, value", [
    ("Objectives: to improve how long children in pain at our minor injuries unit wait for analgesia. Giving analgesia "
     "within 30 minutes of triage was taken as an achievable goal.", 30),
    ("We aim to raise VTE assessment on Ward 5 by June 2027. Our target is 95%.", 95),
    ("Contamination has stayed above the national benchmark of 3% for two years. We aim to decrease contamination "
     "on the unit in 8 months.", None),
])
def test_a_goal_set_in_its_own_sentence_is_the_target(text: str, value: float | None) -> None:
    """Is a goal or target set in a sentence of its own the target, while a benchmark in the problem is not?"""
    t = analyse_smart_aim(text).target
    assert (t.value if t else None) == value

def test_care_for_everyone_from_none_is_a_measured_increase() -> None:
    """From "did not happen at all" to "screen every child aged ...": is there a baseline of 0, a target of all, the
    share of children screened as the measure, and an increase?"""
    a = analyse_smart_aim("Developmental screening did not happen at all at our rural health centre. Over a six-week "
                          "initiative we aimed to screen every child aged 2 to 36 months attending a well-child visit.")
    assert a.baseline is not None and a.baseline.value == 0 and a.target is not None and a.target.value == 100
    assert a.measure is not None and a.measure.startswith("screen every child") and a.direction == "increase"
    assert a.population is not None and not a.population.startswith("at all")

def test_handing_everyone_a_leaflet_is_a_solution_not_a_target_of_all() -> None:
    """Is "to give all patients on Ward 9 a discharge leaflet" a change to make, with no target of 100%?"""
    a = analyse_smart_aim("We aim to give all patients on Ward 9 a discharge leaflet by May 2027.")
    assert a.target is None and "solution_in_disguise" in {m.code for m in a.misconceptions}


def test_a_bare_number_after_up_from_is_no_measure() -> None:
    """Is "up from 35%" (a baseline) not read as the measure "35%"?"""
    a = analyse_smart_aim("The goal is to ensure all children admitted with asthma get an inhaler check, up from 35%, "
                          "by March 2027.")
    assert a.measure != "35%" and a.baseline is not None and a.baseline.value == 35


def test_weeks_are_the_units_of_a_waiting_time() -> None:
    """In "cut the time from referral to appointment from 14 weeks to 6 weeks within a year", are 14 and 6 weeks the
    baseline and target, and "within a year" the time frame?"""
    a = analyse_smart_aim("Our objective is to cut the time from referral to first appointment in the memory clinic "
                          "from 14 weeks to 6 weeks within a year.")
    assert a.baseline is not None and a.baseline.value == 14 and a.target is not None and a.target.value == 6
    assert a.time_frame is not None and a.time_frame.text == "within a year"

def _bench():
    spec = importlib.util.spec_from_file_location("bench_rubric", ROOT / "benchmarks" / "bench_rubric.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_reads_later_batches_of_a_split_and_no_other_split(tmp_path: Path) -> None:
    """Does `--split dev` read aims_dev.yaml and aims_dev2.yaml, but not a split whose name only starts with dev?"""
    for name in ("aims_dev.yaml", "aims_dev2.yaml", "aims_devx.yaml", "aims_heldout.yaml", "notes.txt"):
        (tmp_path / name).write_text("items: []\n")
    assert [f.name for f in _bench().corpus_files(tmp_path, "dev")] == ["aims_dev.yaml", "aims_dev2.yaml"]
