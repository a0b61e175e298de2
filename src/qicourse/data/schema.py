"""What each dataset holds: one row means what, and every column's type, unit and meaning.

One table serves the loader (dtypes, validation), the data cards (`describe`) and the data
dictionary (`datasets/README.md`), so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AGE_BANDS = ["18-29", "30-44", "45-59", "60-69", "70-79", "80+"]
IMD_QUINTILES = [1, 2, 3, 4, 5]
INCIDENT_HARM = ["No harm", "Low", "Moderate", "Severe", "Death"]
FFT_RATINGS = ["Very poor", "Poor", "Neither good nor poor", "Good", "Very good"]
ETHNICITY_GROUPS = [
    "Asian, Asian British or Asian Welsh",
    "Black, Black British, Black Welsh, Caribbean or African",
    "Mixed or Multiple ethnic groups",
    "White",
    "Other ethnic group",
    "Not stated",
]
WARDS = {
    "ED": "Emergency department",
    "AMU": "Acute medical unit",
    "Ash": "Respiratory medicine",
    "Beech": "Gastroenterology",
    "Cedar": "General medicine",
    "Elm": "Cardiology",
    "Oak": "General surgery",
    "Rowan": "Care of the elderly (28 beds)",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    """one of: date, datetime, int, bool, str, category, ordered"""
    unit: str
    meaning: str
    categories: tuple = ()
    """fixed categories (in order, for `ordered` columns); empty: the values present, sorted"""
    allowed: tuple = ()
    """values a `category` column may take when its categories are the values present"""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    row: str
    """what one row is"""
    about: str
    columns: list[Column] = field(default_factory=list)
    date_column: str = ""
    """column that gives the period covered"""


def _c(name, kind, unit, meaning, categories=()):
    return Column(name, kind, unit, meaning, tuple(categories))


_WARD = Column("ward", "category", "", "ward (see the ward list in datasets/README.md)", allowed=tuple(WARDS))

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "falls",
            "Inpatient falls on a care-of-the-elderly ward",
            "one day on Rowan ward",
            "Falls reported each day, graded by harm, with the occupied bed days that make the "
            "denominator for a rate per 1,000 occupied bed days (u chart). A falls prevention "
            "bundle started part-way through.",
            [
                _c("date", "date", "", "calendar day"),
                _WARD,
                _c("beds", "int", "beds", "funded beds on the ward"),
                _c("occupied_bed_days", "int", "bed days", "beds occupied at the midnight census"),
                _c("falls", "int", "falls", "inpatient falls reported that day (all harm levels)"),
                _c("falls_no_harm", "int", "falls", "falls graded no harm"),
                _c("falls_low_harm", "int", "falls", "falls graded low harm"),
                _c("falls_moderate_harm", "int", "falls", "falls graded moderate harm"),
                _c("falls_severe_harm", "int", "falls", "falls graded severe harm or death"),
            ],
            "date",
        ),
        Dataset(
            "sepsis",
            "Time to antibiotics for suspected sepsis",
            "one adult patient who triggered the sepsis pathway",
            "Minutes from the NEWS2 trigger (aggregate score 5 or more, or a red-flag score of 3 "
            "in one parameter) to the first dose of intravenous antibiotics. A ramp of PDSA "
            "cycles ran during the period. Join to `patients` on patient_id.",
            [
                _c("patient_id", "str", "", "pseudonymised hospital number (joins to patients)"),
                _c("trigger_time", "datetime", "", "time the NEWS2 trigger was recorded"),
                _c("antibiotics_time", "datetime", "", "time the first IV antibiotic dose was given"),
                _c("minutes_to_antibiotics", "int", "minutes", "antibiotics_time minus trigger_time"),
                _c("news2_score", "int", "points", "NEWS2 aggregate score at the trigger (0-20)"),
                _c("red_flag", "bool", "", "triggered by a single parameter scoring 3"),
                _c("arrival_route", "category", "", "where the patient was when they triggered"),
                _WARD,
            ],
            "trigger_time",
        ),
        Dataset(
            "vte",
            "VTE risk assessment on admission",
            "one day of adult admissions to the acute medical take",
            "Admissions and how many had a venous thromboembolism risk assessment completed on "
            "admission (NICE NG89); the national expectation is 95%. A p chart measure.",
            [
                _c("date", "date", "", "calendar day of admission"),
                _c("admissions", "int", "patients", "adult admissions that day (denominator)"),
                _c("assessed", "int", "patients", "of those, VTE risk assessment completed on admission"),
            ],
            "date",
        ),
        Dataset(
            "discharges",
            "Discharges from general medical wards",
            "one discharged patient",
            "Discharge time, whether before noon, length of stay, and readmission within 30 days "
            "(a balancing measure). A discharge-before-noon bundle started part-way through. "
            "Join to `patients` on patient_id.",
            [
                _c("patient_id", "str", "", "pseudonymised hospital number (joins to patients)"),
                _WARD,
                _c("admission_date", "date", "", "day of admission"),
                _c("discharge_time", "datetime", "", "time the patient left the ward"),
                _c("discharged_before_noon", "bool", "", "discharge_time before 12:00"),
                _c("length_of_stay_days", "int", "days", "discharge date minus admission date"),
                _c("readmitted_30d", "bool", "", "emergency readmission within 30 days of discharge"),
            ],
            "discharge_time",
        ),
        Dataset(
            "incidents",
            "Patient safety incident reports (Datix-style)",
            "one incident report",
            "Incidents reported in the medical division, by category and harm; a few categories "
            "make up most reports (Pareto chart).",
            [
                _c("incident_id", "str", "", "incident reference"),
                _c("date", "date", "", "date of the incident"),
                _WARD,
                _c("category", "category", "", "incident category (Datix-style)"),
                _c("harm", "ordered", "", "harm to the patient, graded by the reviewer", INCIDENT_HARM),
                _c("reporter_role", "category", "", "staff group of the person reporting"),
                _c("description", "str", "", "short free-text description"),
            ],
            "date",
        ),
        Dataset(
            "news2",
            "NEWS2 observations on time",
            "one ward on one day",
            "Observation sets due (at the frequency the last NEWS2 score requires) and how many "
            "were done on time. A process measure, compared across wards.",
            [
                _c("date", "date", "", "calendar day"),
                _WARD,
                _c("observations_due", "int", "observation sets", "sets due that day"),
                _c("observations_on_time", "int", "observation sets", "sets done within the due time"),
            ],
            "date",
        ),
        Dataset(
            "feedback",
            "Patient and staff feedback",
            "one free-text comment",
            "Comments from the Friends and Family Test (patients) and a staff pulse survey, for "
            "finding themes (qualitative analysis). The true themes are in the truth file only.",
            [
                _c("comment_id", "str", "", "comment reference"),
                _c("date", "date", "", "date the comment was given"),
                _c("source", "category", "", "patient or staff", ["patient", "staff"]),
                _WARD,
                _c("fft_rating", "ordered", "", "Friends and Family Test rating (patients only; "
                   "empty for staff)", FFT_RATINGS),
                _c("comment", "str", "", "the comment, as written"),
            ],
            "date",
        ),
        Dataset(
            "patients",
            "Patient demographics",
            "one patient in `sepsis` or `discharges`",
            "Age band, sex, ethnic group (ONS 2021 high-level groups), Index of Multiple "
            "Deprivation quintile of home postcode and interpreter need, for stratifying "
            "patient-level measures.",
            [
                _c("patient_id", "str", "", "pseudonymised hospital number"),
                _c("age_band", "ordered", "years", "age at the episode", AGE_BANDS),
                _c("sex", "category", "", "sex as recorded", ["Female", "Male"]),
                _c("ethnicity_group", "category", "", "ONS 2021 high-level ethnic group (or Not stated, "
                   "as in hospital records)", ETHNICITY_GROUPS),
                _c("imd_quintile", "ordered", "", "IMD 2019 quintile of home area, 1 = most deprived",
                   IMD_QUINTILES),
                _c("interpreter_needed", "bool", "", "an interpreter is needed for clinical conversations"),
                _c("main_language", "category", "", "main spoken language"),
            ],
            "",
        ),
    ]
}
