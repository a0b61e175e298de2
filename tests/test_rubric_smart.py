"""The SMART aim analyser on real phrasings: a table of aim text -> the fields it must find."""

from __future__ import annotations

import json

import pytest

from qicourse.rubric import analyse_smart_aim

# Keys: d direction, t target value, tk target kind, tu target unit, b baseline value (None = none),
# tf time-frame kind (None = none), tft text in the time frame, big scope too big, pop text in the setting
# (None = no setting), m text in the measure (None = no measure), smart is_smart (as lesson 3 teaches: baseline
# and target, a date or duration, countable measure, manageable setting), mis codes present,
# nomis codes absent.
CASES = [
    ("To increase the percentage of patients with red-flag sepsis receiving IV antibiotics within one hour on "
     "Ward 7 from 45% to 90% by March 2027.",
     dict(d="increase", t=90, tk="absolute", tu="%", b=45, tf="date", tft="March 2027", pop="Ward 7",
          m="percentage of patients with red-flag sepsis", smart=True, mis=set())),
    ("Reduce inpatient falls per 1,000 occupied bed days on the elderly care ward by a third within 6 months.",
     dict(d="decrease", t=33.3, tk="relative", b=None, tf="duration", tft="6 months", m="per 1,000 occupied bed days",
          pop="elderly care ward", smart=False, mis={"no_baseline"})),
    ("Increase VTE risk assessment completion to at least 95% of admissions by the end of the rotation.",
     dict(d="increase", t=95, tk="absolute", tu="%", tf="event", tft="end of the rotation", m="VTE risk assessment",
          smart=False, mis={"no_baseline"})),
    ("Halve the number of falls per 1,000 bed days on Ward 10 by June 2027.",
     dict(d="decrease", t=50, tk="relative", tf="date", pop="Ward 10", m="falls per 1,000 bed days", smart=False)),
    ("Reduce the time from sepsis trigger to antibiotics on AMU from a median of 95 minutes to under 60 minutes by "
     "31/03/2027.",
     dict(d="decrease", t=60, tu="minutes", b=95, tf="date", tft="31/03/2027", pop="AMU",
          m="time from sepsis trigger to antibiotics", smart=True, mis=set())),
    ("Over the next 12 weeks, increase discharges before noon on the respiratory ward from 15% to 30%.",
     dict(d="increase", t=30, b=15, tf="duration", tft="next 12 weeks", m="discharges before noon", smart=True)),
    ("To improve sepsis care.",
     dict(d=None, t=None, b=None, tf=None, m=None, pop=None, smart=False,
          mis={"no_direction", "no_measure", "no_number", "no_date"})),
    ("To introduce a new sepsis proforma in ED.",
     dict(d=None, t=None, m=None, smart=False, mis={"solution_in_disguise"})),
    ("Increase the proportion of NEWS2 observations done on time across the whole trust from 70% to 95% within "
     "4 months.",
     dict(d="increase", t=95, b=70, tf="duration", big=True, smart=False, mis={"too_big"})),
    ("We aim to increase VTE assessment completion on AMU to 95% by August 2027.",
     dict(d="increase", t=95, b=None, tf="date", pop="AMU", smart=False, mis={"no_baseline"})),
    ("Increase the proportion of patients discharged before noon by 10 percentage points by the end of my placement.",
     dict(d="increase", t=10, tk="difference", tu="percentage points", tf="event", smart=False)),
    ("Double the percentage of discharge summaries completed within 24 hours on Ward 3 by December 2026.",
     dict(d="increase", t=100, tk="relative", tf="date", pop="Ward 3", m="discharge summaries", smart=False)),
    ("To reduce falls on ward 9 from 8 to 5 per 1,000 bed days.",
     dict(d="decrease", t=5, b=8, tu="per 1,000 bed days", tf=None, smart=False, mis={"no_date"})),
    ("Currently 60% of admissions have a VTE assessment. We aim for 95% by 1 April 2027 on the acute medical unit.",
     dict(d="increase", t=95, b=60, tf="date", tft="1 April 2027", pop="acute medical unit", smart=True)),
    ("Reduce by a third the number of omitted doses on Ward 5 within six months.",
     dict(d="decrease", t=33.3, tk="relative", tf="duration", tft="six months")),
    ("Increase to at least 95% of admissions having a VTE assessment within 14 hours on SAU by 30 June 2027.",
     dict(d="increase", t=95, tu="%", tf="date", tft="30 June 2027", pop="SAU")),
    ("By 31/03/2027, 95% of patients admitted to the surgical assessment unit will have a completed VTE risk "
     "assessment, up from a baseline of 61%.",
     dict(d="increase", t=95, b=61, tf="date", tft="31/03/2027", pop="surgical assessment unit")),
    ("Reduce the median door-to-needle time from 58 to 45 minutes within 9 months in the emergency department.",
     dict(d="decrease", t=45, b=58, tu="minutes", tf="duration", pop="emergency department")),
    ("Cut readmissions within 30 days on Ward 20 from 28% to 18% by December 2026.",
     dict(d="decrease", t=18, b=28, tf="date", tft="December 2026")),
    ("To reduce 30-day readmissions in heart failure patients discharged from Ward 20 by 10 percentage points "
     "(from 28% to 18%) by December 2026.",
     dict(d="decrease", t=18, b=28, tf="date")),
    ("Increase the number of patients who receive a falls risk assessment.",
     dict(d="increase", t=None, tf=None, pop=None, smart=False, mis={"no_number", "no_date"})),
    ("Improve handover.", dict(d=None, m=None, smart=False, mis={"no_direction"})),
    ("Maintain VTE assessment compliance on our ward above 95% (currently 96%) for the next six months.",
     dict(d="maintain", t=95, b=96, tf="duration", tft="next six months", pop="our ward", smart=True)),
    ("Decrease omitted doses of critical medicines on Ward 3 by 50% by March 2027.",
     dict(d="decrease", t=50, tk="relative", tf="date", pop="Ward 3")),
    ("Increase discharge summaries completed within 24 hours on the cardiology ward from 40% to 80%.",
     dict(d="increase", t=80, b=40, tf=None, smart=False, mis={"no_date"})),
    ("Reduce the rate of C. difficile infection trust-wide from 20 to 15 cases per 100,000 bed days within 6 months.",
     dict(d="decrease", t=15, b=20, big=True, tf="duration", mis={"too_big"})),
    ("Double the proportion of patients receiving their first antibiotic dose within an hour, by the end of the "
     "placement.",
     dict(d="increase", t=100, tk="relative", tf="event", tft="end of the placement", pop=None)),
    ("Aim: all sepsis patients in ED to get antibiotics quicker by next month.",
     dict(d="decrease", t=None, tf="event", tft="next month", pop="ED")),
    ("To audit sepsis antibiotic timings against the NICE standard in ED.",
     dict(d=None, t=None, mis={"audit"})),
    ("Our aim is to reduce the percentage of patients on Ward 22 whose observations are more than an hour late from "
     "30% to 10% by the end of February 2027.",
     dict(d="decrease", t=10, b=30, tf="date", tft="February 2027", pop="Ward 22")),
    ("Make discharges on the stroke unit more efficient.", dict(d=None, t=None, pop="stroke unit")),
    ("By the end of my FY1 orthopaedic rotation, at least 80% of hip fracture patients on the trauma ward will have a "
     "delirium screen within 12 hours of admission (currently 35%).",
     dict(d="increase", t=80, b=35, tf="event", pop="trauma ward")),
    ("To set up a weekly falls huddle on Willow Ward.",
     dict(d=None, t=None, tf=None, pop="Willow Ward", mis={"solution_in_disguise"})),
    ("Cut the mean door-to-needle time for stroke thrombolysis in the emergency department from 58 to 45 minutes "
     "within 9 months.",
     dict(d="decrease", t=45, b=58, tu="minutes", tf="duration", m="mean door-to-needle time")),
    ("Increase the proportion of inpatients across all hospitals in the trust who have a completed MUST screen to 90% "
     "by 1 September 2027.",
     dict(d="increase", t=90, big=True, tf="date", tft="1 September 2027")),
    ("Reduce the number of cancelled elective operations.",
     dict(d="decrease", t=None, tf=None, m="number of cancelled elective operations")),
    ("We want 9 out of 10 patients discharged from the acute medical unit to receive a copy of their discharge letter "
     "before leaving, compared with 4 out of 10 now, by April 2027.",
     dict(d="increase", t=90, b=40, tu="%", tf="date", tft="April 2027", pop="acute medical unit")),
    ("Increase insulin prescribing accuracy on the diabetes ward.",
     dict(d="increase", t=None, m="accuracy", pop="diabetes ward")),
    ("Reduce the rate of catheter-associated urinary tract infections on the urology ward from 6 to 3 per 1,000 "
     "catheter days by 31/12/2026.",
     dict(d="decrease", t=3, b=6, tf="date", tft="31/12/2026", pop="urology ward")),
    ("Within three months, triple the percentage of patients over 65 on Elm Ward who have a documented lying and "
     "standing blood pressure.",
     dict(d="increase", t=200, tk="relative", tf="duration", tft="three months", pop="Elm Ward")),
    ("Improve the timeliness of antibiotics for sepsis by introducing a sepsis trolley in resus.",
     dict(d=None, t=None, pop="resus", mis={"solution_in_disguise"})),
    ("Decrease the median length of stay for patients with pneumonia on the respiratory ward from 7 days to 5 days.",
     dict(d="decrease", t=5, b=7, tu="days", tf=None, m="median length of stay")),
    ("Keep the percentage of VTE assessments completed on the surgical wards nationally above the 95% standard.",
     dict(d="maintain", t=95, big=True)),
    ("Increase medicine reconciliations completed within 24 hours of admission on Ward 8 by 25 percentage points by "
     "the end of this quarter.",
     dict(d="increase", t=25, tk="difference", tf="event", pop="Ward 8")),
    ("Over the next six months, reduce the proportion of hip fracture patients on the orthogeriatric ward waiting more "
     "than 36 hours for surgery from 40% to 20%.",
     dict(d="decrease", t=20, b=40, tf="duration", tft="next six months", pop="orthogeriatric ward")),
    ("To make sure every patient gets their medicines on time.", dict(d=None, t=None, tf=None)),
    ("Introduce a discharge checklist on Ward 11 so that 70% of patients are discharged before noon by July 2027 "
     "(baseline 25%).",
     dict(d="increase", t=70, b=25, tf="date", tft="July 2027", pop="Ward 11", nomis={"solution_in_disguise"})),
    ("Increase the percentage of sepsis patients receiving antibiotics within an hour across every hospital in the "
     "region to 95% within 3 months.",
     dict(d="increase", t=95, big=True, tf="duration")),
    ("Reduce hypoglycaemia episodes per 100 inpatient days on the diabetes ward by 30% by 31 May 2027.",
     dict(d="decrease", t=30, tk="relative", tf="date", tft="31 May 2027", pop="diabetes ward")),
    ("Run monthly simulation training for nurses on the medical wards.",
     dict(d=None, t=None, tf=None, mis={"solution_in_disguise"})),
    ("We aim to halve the percentage of blood cultures that are contaminated in the emergency department, from 8% "
     "to 4%, within 12 weeks.",
     dict(d="decrease", t=4, b=8, tf="duration", tft="12 weeks")),
    ("Reduce falls.", dict(d="decrease", t=None, m=None, pop=None, smart=False)),
    ("Increase the percentage of patients with a completed 4AT from 38% to 80% by 30 April 2027.",
     dict(d="increase", t=80, b=38, tf="date", tft="30 April 2027")),
    ("Reduce median time to first analgesia on SAU from 75 to 45 minutes within 4 months.",
     dict(d="decrease", t=45, b=75, tf="duration", pop="SAU")),
    ("Increase the proportion of red-flag patients screened at triage to 90% by 2027-06-30.",
     dict(d="increase", t=90, tf="date", tft="2027-06-30")),
    ("Raise the percentage of patients with an expected date of discharge recorded within 24 hours from 50% to 85% "
     "in Q2 2027.",
     dict(d="increase", t=85, b=50, tf="date", tft="Q2 2027")),
    ("Lower the proportion of NEWS2 scores of 5 or more not escalated from 22% to 5% by end of January 2027 on "
     "the stroke unit.",
     dict(d="decrease", t=5, b=22, tf="date", tft="January 2027", pop="stroke unit")),
    ("Increase the percentage of patients offered a flu vaccine on the renal unit from one third to two thirds "
     "before Christmas.",
     dict(d="increase", pop="renal unit")),
    ("Decrease the number of falls from 12 per month to 6 per month within 6 months on Oak Ward.",
     dict(d="decrease", t=6, b=12, tf="duration", pop="Oak Ward")),
    ("Reduce the percentage of delayed discharges by a quarter by the end of August.",
     dict(d="decrease", t=25, tk="relative", tf="date", tft="August")),
    ("Increase uptake of the sepsis screening tool to over 90% by 1st March 2027 for all adult patients presenting "
     "to ED with suspected infection.",
     dict(d="increase", t=90, tf="date", tft="1st March 2027", pop="ED")),
    ("Reduce average time to CT head for patients on anticoagulants who fall in hospital to less than 1 hour over "
     "the next 3 months.",
     dict(d="decrease", t=1, tu="hours", tf="duration", tft="next 3 months")),
    ("Eliminate missed insulin doses on Ward 12 by March 2027.",
     dict(d="decrease", t=None, tf="date", pop="Ward 12")),
    ("To improve VTE prophylaxis prescribing from 55% to 85% by June 2027 on the orthopaedic ward.",
     dict(d="increase", t=85, b=55, tf="date", tft="June 2027", pop="orthopaedic ward")),
    ("", dict(d=None, t=None, smart=False, mis={"empty"})),
    ("Reduce waiting times, soon.", dict(d="decrease", tf=None, mis={"no_date"})),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[f"aim{i:02d}" for i in range(len(CASES))])
def test_smart_fields(text, expected):
    """Does the analyser find each SMART part of this phrasing?"""
    a = analyse_smart_aim(text)
    e = expected
    if "d" in e:
        assert a.direction == e["d"], a.spans
    if "t" in e:
        if e["t"] is None:
            assert a.target is None, a.target
        else:
            assert a.target is not None and a.target.value == pytest.approx(e["t"], abs=0.1), a.target
    if "tk" in e:
        assert a.target.kind == e["tk"]
    if "tu" in e:
        assert a.target.unit == e["tu"], a.target
    if "b" in e:
        if e["b"] is None:
            assert a.baseline is None, a.baseline
        else:
            assert a.baseline is not None and a.baseline.value == pytest.approx(e["b"], abs=0.1), a.baseline
    if "tf" in e:
        if e["tf"] is None:
            assert a.time_frame is None, a.time_frame
        else:
            assert a.time_frame is not None and a.time_frame.kind == e["tf"], a.time_frame
    if "tft" in e:
        assert e["tft"].lower() in a.time_frame.text.lower()
    if "big" in e:
        assert a.too_big is e["big"]
    if "pop" in e:
        if e["pop"] is None:
            assert a.population is None, a.population
        else:
            assert a.population is not None and e["pop"].lower() in a.population.lower(), a.population
    if "m" in e:
        if e["m"] is None:
            assert a.measure is None, a.measure
        else:
            assert a.measure is not None and e["m"].lower() in a.measure.lower(), a.measure
    if "smart" in e:
        assert a.is_smart is e["smart"]
    codes = {m.code for m in a.misconceptions}
    assert e.get("mis", set()) <= codes, codes
    assert not (e.get("nomis", set()) & codes), codes


def test_enough_phrasings():
    """Is the analyser checked on at least 60 phrasings?"""
    assert len(CASES) >= 60


def test_spans_quote_the_text_and_result_is_json():
    """Is every span quoted from the aim, and is the result JSON-serialisable?"""
    text = "Reduce the median time to antibiotics on AMU from 95 minutes to 60 minutes by 31 March 2027."
    a = analyse_smart_aim(text)
    for name, span in a.spans.items():
        assert span in text, name
    d = json.loads(json.dumps(a.to_dict()))
    assert d["target"]["value"] == 60 and d["is_smart"] is True and d["missing"] == []


def test_misconception_messages_name_the_problem():
    """Do the feedback messages name the misconception (solution in disguise, too big, no baseline)?"""
    assert "solution in disguise" in analyse_smart_aim("Introduce a sepsis proforma.").feedback()
    assert "too big" in analyse_smart_aim("Increase X across the whole trust from 5% to 9% by May 2027.").feedback()
    assert "baseline" in analyse_smart_aim("Increase completion on Ward 3 to 95% by May 2027.").feedback()
    assert "not a time frame" in analyse_smart_aim("Reduce falls on Ward 3 from 8 to 4 per 1,000 bed days soon.").feedback()


def test_never_raises_on_odd_input():
    """Does the analyser cope with non-English, huge and odd text?"""
    for text in ["Réduire les chutes de 30 % d'ici mars 2027.", "减少跌倒", "1" * 100_000, "%" * 1000, None]:
        analyse_smart_aim(text)  # type: ignore[arg-type]
