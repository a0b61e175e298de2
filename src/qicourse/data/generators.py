"""Generate every dataset from its recipe, deterministically (one `default_rng(seed)` per recipe).

`generate_all(recipes)` returns `{name: (DataFrame, truth dict)}`. Patient-level sets need the
patients' demographics before their times are drawn (the planted inequity depends on them), so
sepsis and discharges are generated in two stages around `patients`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import text
from .schema import AGE_BANDS, INCIDENT_HARM

MINUTE = np.timedelta64(1, "m")
DAY = np.timedelta64(1, "D")

# Share of sepsis triggers by hour of day (busier from late morning into the evening).
_TRIGGER_HOUR_WEIGHTS = np.array(
    [2, 2, 1.5, 1.5, 1.5, 1.5, 2, 2.5, 3, 4, 5, 5.5, 5.5, 5.5, 5.5, 5.5, 5.5, 5.5, 5, 5, 4.5, 4, 3, 2.5]
)


def _days(recipe: dict) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(recipe["start"]), pd.Timestamp(recipe["end"]), freq="D")


def _d64(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).date(), "D")


def _iso(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _rate(numerator: float, denominator: float, scale: float = 1.0, digits: int = 4) -> float:
    return round(float(numerator) / float(denominator) * scale, digits)


def _weekend(days: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(days.day_of_week >= 5)


# ---------------------------------------------------------------------------------------- falls
def falls(recipe: dict) -> tuple[pd.DataFrame, dict]:
    """Daily falls: occupied bed days ~ Binomial(beds, seasonal occupancy); falls ~ Poisson(rate x OBD)."""
    rng = np.random.default_rng(recipe["seed"])
    days = _days(recipe)
    occ = recipe["occupancy"]
    doy = np.asarray(days.day_of_year)
    p_occ = occ["mean"] + occ["winter_amplitude"] * np.cos(2 * math.pi * (doy - occ["peak_day_of_year"]) / 365.25)
    obd = rng.binomial(recipe["beds"], np.clip(p_occ, 0, 1))
    intervention = recipe["intervention"]
    after = np.asarray(days >= pd.Timestamp(intervention["date"]))
    rates = recipe["rate_per_1000_obd"]
    expected = np.where(after, rates["after"], rates["before"]) * obd / 1000
    n = rng.poisson(expected)
    split = recipe["harm_split"]
    harms = rng.multinomial(n, [split[k] for k in ("no_harm", "low_harm", "moderate_harm", "severe_harm")])
    df = pd.DataFrame({
        "date": days.strftime("%Y-%m-%d"),
        "ward": recipe["ward"],
        "beds": recipe["beds"],
        "occupied_bed_days": obd,
        "falls": n,
        "falls_no_harm": harms[:, 0],
        "falls_low_harm": harms[:, 1],
        "falls_moderate_harm": harms[:, 2],
        "falls_severe_harm": harms[:, 3],
    })
    realised = {}
    for label, mask in (("before", ~after), ("after", after)):
        realised[label] = {
            "days": int(mask.sum()),
            "falls": int(n[mask].sum()),
            "occupied_bed_days": int(obd[mask].sum()),
            "rate_per_1000_obd": _rate(n[mask].sum(), obd[mask].sum(), 1000),
        }
    change = pd.Timestamp(intervention["date"])
    truth = {
        "dataset": "falls",
        "measure": "falls per 1,000 occupied bed days (u chart)",
        "intervention": {"date": _iso(change), "name": intervention["name"],
                         "description": intervention["description"]},
        "rate_per_1000_obd": {"before": rates["before"], "after": rates["after"]},
        "relative_change": round(rates["after"] / rates["before"] - 1, 4),
        "stable_periods": [[_iso(recipe["start"]), _iso(change - pd.Timedelta(days=1))],
                           [_iso(change), _iso(recipe["end"])]],
        "harm_split": dict(split),
        "occupancy": dict(occ),
        "realised": realised,
    }
    return df, truth


# --------------------------------------------------------------------------------------- sepsis
def sepsis_events(recipe: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Who triggered and when (stage 1): weekly Poisson counts, route, ward, NEWS2 score."""
    start, end = _d64(recipe["start"]), _d64(recipe["end"])
    n_weeks = int((end - start).astype(np.int64)) // 7 + 1
    counts = rng.poisson(recipe["patients_per_week"], n_weeks)
    week = np.repeat(np.arange(n_weeks), counts)
    n = len(week)
    day = start + (week * 7 + rng.integers(0, 7, n)) * DAY
    hour = rng.choice(24, size=n, p=_TRIGGER_HOUR_WEIGHTS / _TRIGGER_HOUR_WEIGHTS.sum())
    trigger = day.astype("datetime64[m]") + (hour * 60 + rng.integers(0, 60, n)) * MINUTE
    keep = day <= end
    trigger = np.sort(trigger[keep])
    n = len(trigger)
    routes = list(recipe["routes"])
    route = np.array(routes)[rng.choice(len(routes), size=n, p=[recipe["routes"][r]["p"] for r in routes])]
    inpatient = np.array(recipe["inpatient_wards"])[rng.integers(0, len(recipe["inpatient_wards"]), n)]
    ward = np.where(route == "Emergency department", "ED",
                    np.where(route == "Inpatient ward", inpatient, "AMU"))
    red_flag = rng.random(n) < recipe["red_flag_probability"]
    w, rw = np.array(recipe["news2_score_weights"]), np.array(recipe["red_flag_score_weights"])
    score = np.where(red_flag, 3 + rng.choice(len(rw), size=n, p=rw / rw.sum()),
                     5 + rng.choice(len(w), size=n, p=w / w.sum()))
    return pd.DataFrame({"trigger": trigger, "route": route, "ward": ward,
                         "red_flag": red_flag, "score": score})


def sepsis_expected_log_minutes(trigger, route, score, interpreter, imd, recipe: dict) -> np.ndarray:
    """Model mean of log(minutes to antibiotics) for each patient, as planted (see truth file)."""
    m = recipe["model"]
    trigger = np.asarray(trigger, dtype="datetime64[m]")
    imd = np.asarray(imd)
    out = np.full(len(trigger), math.log(m["baseline_median_minutes"]))
    out += np.log([recipe["routes"][r]["factor"] for r in route])
    out += m["score_log_coefficient"] * (np.asarray(score) - 5)
    out += math.log(m["interpreter_factor"]) * np.asarray(interpreter, dtype=float)
    share, lag = recipe["imd_effect"]["share"], recipe["imd_effect"]["lag_days"]
    for cycle in recipe["pdsa_cycles"]:
        for q in range(1, 6):
            starts = (_d64(cycle["date"]) + lag[q] * DAY).astype("datetime64[m]")
            active = (imd == q) & (trigger >= starts)
            out += active * share[q] * math.log(cycle["factor"])
    return out


def sepsis(recipe: dict, events: pd.DataFrame, demo: pd.DataFrame,
           rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Stage 2: log-normal minutes to antibiotics around the planted model."""
    m = recipe["model"]
    mu = sepsis_expected_log_minutes(events["trigger"], events["route"], events["score"],
                                     demo["interpreter_needed"], demo["imd_quintile"], recipe)
    minutes = np.clip(np.rint(np.exp(mu + m["sigma_log"] * rng.standard_normal(len(mu)))),
                      m["min_minutes"], m["max_minutes"]).astype(np.int64)
    trigger = events["trigger"].to_numpy(dtype="datetime64[m]")
    given = trigger + minutes * MINUTE
    df = pd.DataFrame({
        "patient_id": demo["patient_id"].to_numpy(),
        "trigger_time": pd.DatetimeIndex(trigger).strftime("%Y-%m-%d %H:%M"),
        "antibiotics_time": pd.DatetimeIndex(given).strftime("%Y-%m-%d %H:%M"),
        "minutes_to_antibiotics": minutes,
        "news2_score": events["score"].to_numpy(),
        "red_flag": events["red_flag"].to_numpy(),
        "arrival_route": events["route"].to_numpy(),
        "ward": events["ward"].to_numpy(),
    })
    cycles = recipe["pdsa_cycles"]
    bounds = [_d64(recipe["start"])] + [_d64(c["date"]) for c in cycles] + [_d64(recipe["end"]) + DAY]
    phase_medians = []
    for i in range(len(bounds) - 1):
        mask = (trigger >= bounds[i]) & (trigger < bounds[i + 1])
        phase_medians.append({"phase": "baseline" if i == 0 else f"after cycle {i}",
                              "from": str(bounds[i]), "patients": int(mask.sum()),
                              "median_minutes": float(np.median(minutes[mask]))})
    base = m["baseline_median_minutes"]
    share, lag = recipe["imd_effect"]["share"], recipe["imd_effect"]["lag_days"]
    full = math.prod(c["factor"] for c in cycles)
    interp = demo["interpreter_needed"].to_numpy()
    truth = {
        "dataset": "sepsis",
        "measure": "minutes from NEWS2 trigger to first IV antibiotic dose (log-normal)",
        "model": {
            "description": "log(minutes) ~ Normal(mu, sigma_log); mu = log(baseline_median_minutes) "
                           "+ log(route factor) + score_log_coefficient * (news2_score - 5) "
                           "+ log(interpreter_factor) * interpreter_needed + sum over PDSA cycles "
                           "active for the patient's IMD quintile of share[q] * log(cycle factor); "
                           "a cycle is active from its date + lag_days[q]; minutes rounded and "
                           "clipped to [min_minutes, max_minutes]",
            **{k: v for k, v in m.items()},
            "route_factor": {r: v["factor"] for r, v in recipe["routes"].items()},
        },
        "pdsa_cycles": [
            {"cycle": c["cycle"], "date": _iso(c["date"]), "title": c["title"],
             "description": c["description"], "decision": c["decision"], "factor": c["factor"],
             "effect": "none" if c["factor"] == 1 else f"median time x {c['factor']} "
                       f"({round((c['factor'] - 1) * 100)}%) for IMD quintiles 4-5"}
            for c in cycles
        ],
        "expected_median_minutes_reference_patient": {
            "reference": "ED arrival, NEWS2 5, no interpreter",
            "baseline": base,
            "after_all_cycles_by_imd_quintile": {
                str(q): round(base * full ** share[q], 1) for q in range(1, 6)},
        },
        "planted_inequity": {
            "interpreter": {"factor": m["interpreter_factor"],
                            "description": f"patients needing an interpreter wait "
                                           f"{round((m['interpreter_factor'] - 1) * 100)}% longer "
                                           "throughout the period"},
            "least_deprived_first": {
                "share_of_effect_by_imd_quintile": {str(q): share[q] for q in range(1, 6)},
                "lag_days_by_imd_quintile": {str(q): lag[q] for q in range(1, 6)},
                "description": "each cycle reaches IMD quintiles 4-5 at once and in full, quintiles "
                               "1-2 weeks later and only about half as strongly; no IMD gap at "
                               "baseline, a gap opens as the ramp proceeds",
            },
        },
        "realised": {
            "patients": len(df),
            "phases": phase_medians,
            "median_minutes_interpreter": float(np.median(minutes[interp])),
            "median_minutes_no_interpreter": float(np.median(minutes[~interp])),
        },
    }
    return df, truth


# ----------------------------------------------------------------------------------- discharges
def discharge_events(recipe: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Stage 1: discharges per ward a day (Poisson, fewer at weekends)."""
    days = _days(recipe)
    wards = recipe["wards"]
    rate = np.where(_weekend(days), recipe["discharges_per_ward_day"]["weekend"],
                    recipe["discharges_per_ward_day"]["weekday"])
    counts = rng.poisson(np.tile(rate, (len(wards), 1)))  # wards x days
    ward_idx, day_idx = np.nonzero(counts)
    reps = counts[ward_idx, day_idx]
    day = np.repeat(np.asarray(days.values.astype("datetime64[D]"))[day_idx], reps)
    ward = np.repeat(np.array(wards)[ward_idx], reps)
    order = np.lexsort((ward, day))
    return pd.DataFrame({"day": day[order], "ward": ward[order]})


def discharges(recipe: dict, events: pd.DataFrame, demo: pd.DataFrame,
               rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Stage 2: length of stay (log-normal by age), time of day, before noon, readmission."""
    n = len(events)
    day = events["day"].to_numpy(dtype="datetime64[D]")
    iv = recipe["intervention"]
    after = day >= _d64(iv["date"])
    los_r = recipe["length_of_stay"]
    median = (los_r["median_days"] * np.array([los_r["age_factor"][a] for a in demo["age_band"]])
              * np.where(after, recipe["length_of_stay_factor_after"], 1.0))
    los = np.clip(np.rint(median * np.exp(los_r["sigma_log"] * rng.standard_normal(n))),
                  1, los_r["max_days"]).astype(np.int64)
    bn_p = np.where(after, recipe["before_noon"]["after"], recipe["before_noon"]["before"])
    before_noon = rng.random(n) < bn_p
    morning = 8 * 60 + np.floor(240 * rng.beta(2.0, 1.3, n))
    afternoon = 12 * 60 + np.floor(600 * rng.beta(2.0, 3.0, n))
    minute = np.where(before_noon, morning, afternoon).astype(np.int64)
    time = day.astype("datetime64[m]") + minute * MINUTE
    ra = recipe["readmitted_30d"]
    readmitted = rng.random(n) < np.where(after, ra["after"], ra["before"])
    df = pd.DataFrame({
        "patient_id": demo["patient_id"].to_numpy(),
        "ward": events["ward"].to_numpy(),
        "admission_date": pd.DatetimeIndex(day - los * DAY).strftime("%Y-%m-%d"),
        "discharge_time": pd.DatetimeIndex(time).strftime("%Y-%m-%d %H:%M"),
        "discharged_before_noon": before_noon,
        "length_of_stay_days": los,
        "readmitted_30d": readmitted,
    })
    order = np.argsort(time, kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    realised = {}
    for label, mask in (("before", ~after), ("after", after)):
        realised[label] = {
            "discharges": int(mask.sum()),
            "before_noon_share": _rate(before_noon[mask].sum(), mask.sum()),
            "median_length_of_stay_days": float(np.median(los[mask])),
            "readmitted_30d_share": _rate(readmitted[mask].sum(), mask.sum()),
        }
    truth = {
        "dataset": "discharges",
        "intervention": {"date": _iso(iv["date"]), "name": iv["name"], "description": iv["description"]},
        "before_noon_share": dict(recipe["before_noon"]),
        "readmitted_30d_share": dict(ra),
        "readmission_is_balancing_measure": True,
        "length_of_stay": {
            "model": "log-normal: median_days x age_factor x (length_of_stay_factor_after after the "
                     "intervention), sigma_log; rounded to whole days, at least 1",
            "median_days": los_r["median_days"], "sigma_log": los_r["sigma_log"],
            "age_factor": dict(los_r["age_factor"]),
            "length_of_stay_factor_after": recipe["length_of_stay_factor_after"],
        },
        "stable_periods": [[_iso(recipe["start"]), _iso(pd.Timestamp(iv["date"]) - pd.Timedelta(days=1))],
                           [_iso(iv["date"]), _iso(recipe["end"])]],
        "realised": realised,
    }
    return df, truth


# -------------------------------------------------------------------------------------- patients
def demographics(recipe: dict, n: int) -> pd.DataFrame:
    """Age, sex, ethnic group (by age), IMD quintile (by ethnic group), interpreter and language."""
    rng = np.random.default_rng(recipe["seed"])
    bands = list(recipe["age_bands"])
    if bands != AGE_BANDS:
        raise ValueError(f"patients recipe: age_bands must be {AGE_BANDS}, got {bands}")
    age = np.array(bands)[rng.choice(len(bands), size=n, p=list(recipe["age_bands"].values()))]
    sex = np.where(rng.random(n) < recipe["female_probability"], "Female", "Male")
    older = np.isin(age, ["60-69", "70-79", "80+"])
    eth = np.empty(n, dtype=object)
    for key, mask in (("under_60", ~older), ("60_plus", older)):
        groups = list(recipe["ethnicity_groups"][key])
        p = np.array(list(recipe["ethnicity_groups"][key].values()))
        eth[mask] = np.array(groups, dtype=object)[rng.choice(len(groups), size=int(mask.sum()), p=p / p.sum())]
    imd = np.zeros(n, dtype=np.int64)
    interp_p = np.zeros(n)
    for group, p in recipe["imd_quintile"].items():
        mask = eth == group
        p = np.array(p)
        imd[mask] = 1 + rng.choice(5, size=int(mask.sum()), p=p / p.sum())
        interp_p[mask] = recipe["interpreter"]["probability"][group]
    very_old = np.isin(age, ["70-79", "80+"])
    interp_p = np.minimum(interp_p * np.where(very_old, recipe["interpreter"]["older_factor"], 1.0), 0.9)
    interpreter = rng.random(n) < interp_p
    other_language = interpreter | (rng.random(n) < interp_p * recipe["interpreter"]["other_language_ratio"])
    language = np.full(n, "English", dtype=object)
    for group, langs in recipe["languages"].items():
        mask = other_language & (eth == group)
        w = np.array(list(langs.values()))
        language[mask] = np.array(list(langs), dtype=object)[rng.choice(len(w), size=int(mask.sum()), p=w / w.sum())]
    return pd.DataFrame({"age_band": age, "sex": sex, "ethnicity_group": eth,
                         "imd_quintile": imd, "interpreter_needed": interpreter,
                         "main_language": language})


def _patients_truth(df: pd.DataFrame, recipe: dict) -> dict:
    return {
        "dataset": "patients",
        "population": "acute medical and sepsis patients of a trust serving a diverse English city",
        "mix": {k: recipe[k] for k in ("age_bands", "female_probability", "ethnicity_groups",
                                       "imd_quintile", "interpreter")},
        "planted_inequity": "see sepsis.truth.json: longer time to antibiotics for patients needing an "
                            "interpreter; the sepsis improvement reaches IMD quintiles 4-5 before 1-2",
        "realised": {
            "patients": len(df),
            "interpreter_needed_share": _rate(df["interpreter_needed"].sum(), len(df)),
            "imd_quintile_share": {str(q): _rate((df["imd_quintile"] == q).sum(), len(df)) for q in range(1, 6)},
            "ethnicity_group_share": {g: _rate((df["ethnicity_group"] == g).sum(), len(df))
                                      for g in recipe["imd_quintile"]},
        },
    }


# -------------------------------------------------------------------------------------------- vte
def vte(recipe: dict) -> tuple[pd.DataFrame, dict]:
    """Daily admissions (Poisson, fewer at weekends), assessed ~ Binomial(admissions, completion)."""
    rng = np.random.default_rng(recipe["seed"])
    days = _days(recipe)
    per_day = recipe["admissions_per_day"]
    admissions = rng.poisson(np.where(_weekend(days), per_day["weekend"], per_day["weekday"]))
    iv = recipe["intervention"]
    after = np.asarray(days >= pd.Timestamp(iv["date"]))
    c = recipe["completion"]
    assessed = rng.binomial(admissions, np.where(after, c["after"], c["before"]))
    df = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "admissions": admissions, "assessed": assessed})
    truth = {
        "dataset": "vte",
        "measure": "share of admissions with a VTE risk assessment on admission (p chart)",
        "national_expectation": recipe["national_expectation"],
        "intervention": {"date": _iso(iv["date"]), "name": iv["name"], "description": iv["description"]},
        "completion": dict(c),
        "stable_periods": [[_iso(recipe["start"]), _iso(pd.Timestamp(iv["date"]) - pd.Timedelta(days=1))],
                           [_iso(iv["date"]), _iso(recipe["end"])]],
        "realised": {label: {"admissions": int(admissions[m].sum()),
                             "completion": _rate(assessed[m].sum(), admissions[m].sum())}
                     for label, m in (("before", ~after), ("after", after))},
    }
    return df, truth


# ------------------------------------------------------------------------------------------ news2
def news2(recipe: dict) -> tuple[pd.DataFrame, dict]:
    """Observation sets due per ward a day (Poisson) and on time (Binomial); one ward improves."""
    rng = np.random.default_rng(recipe["seed"])
    days = _days(recipe)
    iv, outage = recipe["intervention"], recipe["outage"]
    is_outage = np.asarray(days == pd.Timestamp(outage["date"]))
    frames = []
    for ward, w in recipe["wards"].items():
        due = rng.poisson(w["due_per_day"], len(days))
        p = np.full(len(days), w["on_time"])
        if ward == iv["ward"]:
            p = np.where(np.asarray(days >= pd.Timestamp(iv["date"])), iv["on_time_after"], p)
        p = np.where(is_outage, outage["on_time"], p)
        frames.append(pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "ward": ward,
                                    "observations_due": due,
                                    "observations_on_time": rng.binomial(due, p)}))
    df = pd.concat(frames, ignore_index=True).sort_values(["date", "ward"], kind="stable").reset_index(drop=True)
    truth = {
        "dataset": "news2",
        "measure": "share of NEWS2 observation sets done on time (p chart per ward)",
        "on_time_by_ward": {ward: w["on_time"] for ward, w in recipe["wards"].items()},
        "intervention": {"ward": iv["ward"], "date": _iso(iv["date"]), "name": iv["name"],
                         "description": iv["description"],
                         "on_time_before": recipe["wards"][iv["ward"]]["on_time"],
                         "on_time_after": iv["on_time_after"]},
        "special_cause_days": [{"date": _iso(outage["date"]), "on_time": outage["on_time"],
                                "wards": "all", "description": outage["description"]}],
    }
    return df, truth


# -------------------------------------------------------------------------------------- incidents
def incidents(recipe: dict) -> tuple[pd.DataFrame, dict]:
    """Datix-style reports: daily Poisson counts, category by Pareto weights, harm by category."""
    rng = np.random.default_rng(recipe["seed"])
    days = _days(recipe)
    counts = rng.poisson(recipe["incidents_per_day"], len(days))
    date = np.repeat(np.asarray(days.strftime("%Y-%m-%d")), counts)
    n = len(date)
    cats = list(recipe["categories"])
    cw = np.array(list(recipe["categories"].values()))
    category = np.array(cats, dtype=object)[rng.choice(len(cats), size=n, p=cw / cw.sum())]
    wards = list(recipe["wards"])
    harm_levels = recipe["harm_levels"]
    if harm_levels != INCIDENT_HARM:
        raise ValueError(f"incidents recipe: harm_levels must be {INCIDENT_HARM}")
    ward = np.empty(n, dtype=object)
    harm = np.empty(n, dtype=object)
    role = np.empty(n, dtype=object)
    descriptions = []
    role_weights = recipe["reporter_roles"]
    for i in range(n):
        c = category[i]
        ww = np.array([recipe["wards"][w] * recipe.get("ward_multipliers", {}).get(c, {}).get(w, 1.0)
                       for w in wards])
        ward[i] = wards[rng.choice(len(wards), p=ww / ww.sum())]
        hp = np.array(recipe["harm_probabilities"].get(c, recipe["harm_probabilities"]["default"]))
        harm[i] = harm_levels[rng.choice(len(harm_levels), p=hp / hp.sum())]
        roles = role_weights.get(c, role_weights["default"])
        rw = np.array(list(roles.values()))
        role[i] = list(roles)[rng.choice(len(rw), p=rw / rw.sum())]
        descriptions.append(text.compose_incident(rng, c, harm[i]))
    id0 = recipe["id_start"]
    df = pd.DataFrame({"incident_id": [f"W{id0 + i}" for i in range(n)], "date": date, "ward": ward,
                       "category": category, "harm": harm, "reporter_role": role,
                       "description": descriptions})
    freq = pd.Series(category).value_counts()
    truth = {
        "dataset": "incidents",
        "category_weights": dict(recipe["categories"]),
        "harm_probabilities": {k: list(v) for k, v in recipe["harm_probabilities"].items()},
        "ward_multipliers": {k: dict(v) for k, v in recipe.get("ward_multipliers", {}).items()},
        "reporter_roles": {k: dict(v) for k, v in role_weights.items()},
        "pareto": {"top_3_categories": [str(c) for c in freq.index[:3]],
                   "top_3_share": _rate(freq.iloc[:3].sum(), n)},
        "realised": {"incidents": n, "by_category": {str(k): int(v) for k, v in freq.items()}},
    }
    return df, truth


# --------------------------------------------------------------------------------------- feedback
def feedback(recipe: dict) -> tuple[pd.DataFrame, dict]:
    """Comments with one or two hidden themes each, composed from independent fragments."""
    rng = np.random.default_rng(recipe["seed"])
    days = _days(recipe)
    n = recipe["comments"]
    date = np.sort(rng.integers(0, len(days), n))
    source = np.where(rng.random(n) < recipe["staff_share"], "staff", "patient")
    wards = recipe["wards"]
    planted = recipe["planted"]
    themes_out, rows = {}, []
    for i in range(n):
        ward = wards[int(rng.integers(len(wards)))]
        weights = dict(recipe["theme_weights"][source[i]])
        if ward == planted["ward"]:
            weights[planted["theme"]] += planted["extra_weight"]
        names = list(weights)
        w = np.array([weights[t] for t in names])
        k = 2 if rng.random() < recipe["two_theme_share"] else 1
        chosen = [names[j] for j in rng.choice(len(names), size=k, replace=False, p=w / w.sum())]
        positive = [bool(rng.random() < recipe["positive_probability"][t]) for t in chosen]
        comment = text.compose_comment(rng, source[i], ward, chosen, positive)
        sentiment = "positive" if all(positive) else "negative" if not any(positive) else "mixed"
        rating = ""
        if source[i] == "patient":
            options = {"positive": (["Very good", "Good"], [0.75, 0.25]),
                       "mixed": (["Good", "Neither good nor poor", "Poor"], [0.45, 0.35, 0.2]),
                       "negative": (["Very poor", "Poor", "Neither good nor poor"], [0.35, 0.45, 0.2])}
            labels, p = options[sentiment]
            rating = labels[rng.choice(len(labels), p=p)]
        cid = f"FB{i + 1:04d}"
        rows.append((cid, days[date[i]].strftime("%Y-%m-%d"), source[i], ward, rating, comment))
        themes_out[cid] = {"themes": chosen,
                           "sentiment": {t: "positive" if p else "negative" for t, p in zip(chosen, positive)},
                           "overall": sentiment}
    df = pd.DataFrame(rows, columns=["comment_id", "date", "source", "ward", "fft_rating", "comment"])
    counts = {t: sum(t in v["themes"] for v in themes_out.values()) for t in text.THEMES}
    truth = {
        "dataset": "feedback",
        "themes": text.THEMES,
        "theme_weights": {k: dict(v) for k, v in recipe["theme_weights"].items()},
        "positive_probability": dict(recipe["positive_probability"]),
        "planted": {**planted, "description": f"{planted['ward']} ward comments mention "
                                              f"{planted['theme']} far more often"},
        "realised": {"comments": n, "comments_per_theme": counts,
                     "two_theme_comments": sum(len(v["themes"]) == 2 for v in themes_out.values())},
        "comments": themes_out,
    }
    return df, truth


# ------------------------------------------------------------------------------------------- all
def generate_all(recipes: dict[str, dict]) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Every dataset from its recipe. Demographics are drawn once for sepsis + discharge patients."""
    out = {
        "falls": falls(recipes["falls"]),
        "vte": vte(recipes["vte"]),
        "news2": news2(recipes["news2"]),
        "incidents": incidents(recipes["incidents"]),
        "feedback": feedback(recipes["feedback"]),
    }
    rs, rd = recipes["sepsis"], recipes["discharges"]
    rng_s, rng_d = np.random.default_rng(rs["seed"]), np.random.default_rng(rd["seed"])
    s_events = sepsis_events(rs, rng_s)
    d_events = discharge_events(rd, rng_d)
    ids = [f"P{rs['id_start'] + i:06d}" for i in range(len(s_events))] + \
          [f"P{rd['id_start'] + i:06d}" for i in range(len(d_events))]
    if len(set(ids)) != len(ids):
        raise ValueError("sepsis and discharges recipes: patient id ranges overlap (id_start)")
    demo = demographics(recipes["patients"], len(ids))
    demo.insert(0, "patient_id", ids)
    ns = len(s_events)
    out["sepsis"] = sepsis(rs, s_events, demo.iloc[:ns].reset_index(drop=True), rng_s)
    out["discharges"] = discharges(rd, d_events, demo.iloc[ns:].reset_index(drop=True), rng_d)
    out["patients"] = (demo, _patients_truth(demo, recipes["patients"]))
    return out
