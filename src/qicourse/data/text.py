"""Free text for the feedback comments and incident descriptions.

Comments are composed from many independent fragments (opener, one or two theme sentences
with slots for people, times and wards, a closer), so that nearly every comment is unique and a
learner has to read for meaning rather than match a handful of templates.
"""

from __future__ import annotations

import re

import numpy as np

THEMES = [
    "waiting and delays",
    "communication",
    "staff attitude and kindness",
    "food and hydration",
    "noise and sleep",
    "discharge process",
    "pain control",
    "staffing pressure",
    "cleanliness",
]

_SLOTS = {
    "staff": ["the nurses", "the healthcare assistants", "the doctors", "the night staff",
              "the student nurse", "the consultant", "the physio", "the ward sister",
              "one of the HCAs", "the junior doctor", "the day staff", "the nurse in charge",
              "the pharmacist", "the porters", "the matron"],
    "relative": ["my mum", "my dad", "my husband", "my wife", "my nan", "my grandad",
                 "my father-in-law", "my partner", "my sister", "my brother", "my auntie"],
    "when": ["at 3am", "overnight", "on the Sunday", "first thing in the morning", "at the weekend",
             "on my second night", "after my scan", "on the day I came in", "late in the evening",
             "at visiting time", "during the night", "on bank holiday Monday", "at teatime",
             "after the ward round", "on the Friday"],
    "duration": ["nearly four hours", "over two hours", "most of the afternoon", "six hours",
                 "the best part of a day", "three hours", "ninety minutes",
                 "all morning", "five hours", "a good forty minutes"],
    "food": ["the sandwiches", "the jacket potato", "the soup", "breakfast", "the hot meals",
             "the puddings", "the porridge", "the curry", "the fish on Friday", "the toast"],
    "drink": ["a cup of tea", "fresh water", "a drink", "a brew", "a jug of water", "a hot drink"],
    "noise": ["the buzzers", "the bins banging", "staff chatting at the desk", "the pumps alarming",
              "a very confused patient opposite", "the lights being on", "phones ringing",
              "trolleys going past", "the TV next door", "the doors slamming"],
    "feel_pos": ["I felt safe", "it made a real difference", "I can't thank them enough",
                 "it really put my mind at rest", "that meant the world to us",
                 "I felt properly looked after", "it made a horrible week bearable",
                 "we were so grateful", "it helped more than they know"],
    "feel_neg": ["it left me feeling forgotten", "it was really upsetting", "it was so frustrating",
                 "I felt like a nuisance", "it made everything worse", "we were left worried sick",
                 "it wasn't good enough", "it knocked my confidence", "I ended up in tears",
                 "it felt like nobody cared"],
    "role": ["band 5 nurse", "HCA", "F1", "F2", "staff nurse", "physio", "ward clerk",
             "registrar", "pharmacist", "band 6 sister", "OT", "student nurse on placement"],
    "shift": ["nights", "the late shift", "weekends", "long days", "the early shift", "twilights"],
    "number": ["two", "three", "four", "five", "six"],
}

# Patient comments: theme -> sentiment -> sentence templates.
_PATIENT = {
    "waiting and delays": {
        "positive": [
            "I was seen in A&E within the hour, which I didn't expect, and {feel_pos}.",
            "The wait for my scan was much shorter than last time and {staff} kept me updated.",
            "Everything moved quickly once I was on {ward}; tests were done {when} without fuss.",
            "We hardly waited at all for the results and {feel_pos}.",
            "{relative_cap} was seen quickly in A&E and was settled on {ward} the same evening.",
        ],
        "negative": [
            "We waited {duration} in A&E before anyone saw {relative}, and {feel_neg}.",
            "I waited {duration} for a bed on {ward}, sat on a chair in the corridor.",
            "The scan was booked for the morning but I didn't go down until {duration} later.",
            "Nobody could tell us why {relative} was kept waiting {duration} for the doctor.",
            "I asked for painkillers {when} and it was {duration} before they came.",
            "Waiting {duration} to be seen with chest pain was frightening.",
        ],
    },
    "communication": {
        "positive": [
            "{staff} explained every step in plain English and {feel_pos}.",
            "The consultant sat down with us {when} and answered every question we had.",
            "{staff} rang me each evening to tell me how {relative} was doing.",
            "They drew me a little diagram of my heart, which made it all make sense.",
        ],
        "negative": [
            "Nobody told us {relative} had been moved to {ward}; we found out from the porter.",
            "I got three different answers from three different doctors about my tablets.",
            "We were never told what the plan was, and {feel_neg}.",
            "{staff} talked over {relative} as if they weren't there.",
            "Phoning the ward was hopeless, it rang out every time I tried {when}.",
            "I still don't really know what was wrong with me or why I had the scan.",
        ],
    },
    "staff attitude and kindness": {
        "positive": [
            "{staff} on {ward} could not have been kinder to {relative}, and {feel_pos}.",
            "Nothing was too much trouble for {staff}, even {when} when they were rushed off their feet.",
            "{staff} held my hand before the procedure and {feel_pos}.",
            "Every single person treated {relative} with dignity and real warmth.",
            "{staff} remembered how I like my tea and had a chat with me every day.",
            "Special thanks to {staff} who stayed with {relative} {when}; {feel_pos}.",
        ],
        "negative": [
            "One of {staff} was short with me {when} when I pressed the buzzer, and {feel_neg}.",
            "{staff} rolled their eyes when {relative} asked for help to the toilet.",
            "I was spoken to like a child by {staff}, and {feel_neg}.",
            "Some of the staff on {ward} seemed fed up and it showed in how they spoke to people.",
        ],
    },
    "food and hydration": {
        "positive": [
            "{food} was lovely, proper home cooking, and there was always {drink} on offer.",
            "They kept bringing {relative} {drink} and made sure she actually drank it.",
            "The hostess on {ward} went out of her way to find something I could eat.",
            "Considering it's hospital food, {food} was really tasty.",
        ],
        "negative": [
            "{food} was stone cold by the time it reached me.",
            "The water jug was left out of reach and {relative} went {duration} without {drink}.",
            "Meals were put down and taken away again before {relative} could manage them.",
            "I'm diabetic and the menu had almost nothing suitable; {food} was the only option.",
            "Nobody helped {relative} to eat, and {feel_neg}.",
        ],
    },
    "noise and sleep": {
        "positive": [
            "The ward was calm at night and I got the best sleep I'd had in weeks.",
            "They gave me earplugs and an eye mask, which helped a lot with {noise}.",
            "Staff kept their voices down overnight, so I actually slept.",
            "The night staff kept the bay quiet so {relative} could finally get some sleep.",
        ],
        "negative": [
            "I barely slept because of {noise} {when}.",
            "Between {noise} and {noise2}, getting any rest was impossible.",
            "{noise} kept me awake most nights on {ward}, and {feel_neg}.",
            "I was woken {when} for obs and then couldn't get back off because of {noise}.",
            "It's hard to get better when you can't sleep for {noise}.",
            "{relative_cap} hardly slept for {noise} and was exhausted every time we visited.",
        ],
    },
    "discharge process": {
        "positive": [
            "My discharge was well organised, my tablets were ready and transport was booked.",
            "They planned {relative}'s discharge with the care agency so everything was ready at home.",
            "I was home before lunch with a clear letter and a number to ring if worried.",
        ],
        "negative": [
            "I was told I could go home in the morning, then waited {duration} for my tablets.",
            "{relative} was discharged {when} with no care package in place.",
            "We sat in the discharge lounge for {duration} waiting for TTOs and transport.",
            "Nobody explained the new medication before I left, and {feel_neg}.",
            "The discharge letter didn't arrive at the GP, so they knew nothing about my stay.",
        ],
    },
    "pain control": {
        "positive": [
            "My pain was checked regularly and the painkillers came on time.",
            "{staff} sorted out my pain relief quickly after my operation and {feel_pos}.",
            "The pain team came to see me {when} and got it under control.",
            "{staff} kept on top of {relative}'s pain, which was a huge relief to us all.",
        ],
        "negative": [
            "I was in agony {when} and it took {duration} to get any pain relief.",
            "My painkillers were missed twice because the drug round was late.",
            "I didn't feel anyone believed how much pain {relative} was in, and {feel_neg}.",
            "The nurses kept saying the doctor needed to prescribe it, and nobody came for {duration}.",
        ],
    },
    "staffing pressure": {
        "positive": [
            "Even though they were clearly short-staffed, {staff} never made me feel rushed.",
            "The ward seemed well staffed and someone always came when I buzzed.",
            "Even with the ward so busy, someone always came quickly when {relative} needed help.",
        ],
        "negative": [
            "There were only {number} nurses for the whole bay {when}, they were run ragged.",
            "The staff are clearly overstretched; I pressed the buzzer and waited {duration}.",
            "It felt like there weren't enough staff, especially {when}.",
            "Lots of agency staff who didn't know where anything was or who {relative} was.",
        ],
    },
    "cleanliness": {
        "positive": [
            "The ward was spotless and the cleaners were lovely.",
            "Everything on {ward} was clean and tidy, even the bathrooms.",
            "I saw staff cleaning their hands every time, which reassured me.",
            "{relative_cap}'s bed space was spotless every time we visited.",
        ],
        "negative": [
            "The toilet in our bay wasn't cleaned {when} and it smelt awful.",
            "There was blood on the floor by my bed that was left for {duration}.",
            "The shower was dirty and the bin beside {relative}'s bed was overflowing.",
            "Dust everywhere on {ward}, and {feel_neg}.",
        ],
    },
}

_STAFF = {
    "waiting and delays": {
        "positive": ["Bloods come back quicker since the new analyser and it really helps the board round."],
        "negative": [
            "Patients wait {duration} for a bed because flow has ground to a halt.",
            "We wait {duration} for porters to take patients to scan, which holds everything up.",
            "Reviews requested {when} sometimes aren't done until {duration} later.",
        ],
    },
    "communication": {
        "positive": [
            "The safety huddle at 08:00 has made a real difference to knowing who is sick.",
            "Handover on {ward} is structured now and I go home knowing nothing is missed.",
            "The consultants on {ward} are approachable and explain their plans.",
        ],
        "negative": [
            "Handover {when} is rushed and important things get lost.",
            "Plans made on the ward round often aren't written down, so nurses find out hours later.",
            "Messages about bed moves come through {number} different people and get garbled.",
            "Nobody tells the ward team when policies change; we hear about it after a Datix.",
        ],
    },
    "staff attitude and kindness": {
        "positive": [
            "The team on {ward} look after each other, and new starters feel welcome.",
            "The ward manager always checks we've had a break, which means a lot.",
            "Everyone pitches in on {shift}, HCAs and doctors alike.",
        ],
        "negative": [
            "Some senior staff are dismissive when juniors raise concerns {when}.",
            "There is a culture of blame on {ward} when something goes wrong.",
        ],
    },
    "food and hydration": {
        "positive": ["Protected mealtimes are working well on {ward}; patients get help to eat."],
        "negative": [
            "Fluid charts are rarely complete, so we don't know who is drinking enough.",
            "Meals arrive during the drug round and there's nobody free to help people eat.",
        ],
    },
    "noise and sleep": {
        "positive": ["Dimming the lights at 22:00 has made nights calmer for patients."],
        "negative": [
            "Night-time bed moves mean patients on {ward} get woken {when} for no clinical reason.",
            "The alarms on the pumps go off constantly and nobody can rest.",
        ],
    },
    "discharge process": {
        "positive": [
            "Criteria-led discharge means patients can go without waiting for the ward round.",
            "The discharge coordinator on {ward} has made a huge difference to getting people home.",
        ],
        "negative": [
            "TTOs are written {when} and pharmacy can't turn them round in time.",
            "Patients who are medically fit sit on {ward} for days waiting for a care package.",
            "Discharge summaries pile up because the juniors have no protected time to write them.",
            "Transport is booked too late, so patients leave in the evening.",
        ],
    },
    "pain control": {
        "positive": ["The pain team's teaching has made us much more confident with PCA pumps."],
        "negative": [
            "Controlled drugs need two registered nurses, and on {shift} there often aren't two free.",
            "Analgesia is often prescribed as required but never reviewed.",
        ],
    },
    "staffing pressure": {
        "positive": ["Staffing has been better since the new international nurses started."],
        "negative": [
            "We were {number} nurses down {when} and had to close the escalation bay late.",
            "On {shift} I'm regularly looking after {number} more patients than is safe.",
            "Constant bank and agency shifts mean there's no continuity for patients.",
            "I haven't had a proper break on {shift} for weeks, and {feel_neg_staff}.",
            "Rota gaps mean the F1s cover two wards {when}.",
            "We're asked to take a sixth patient in every bay as escalation, every single day.",
        ],
    },
    "cleanliness": {
        "positive": ["The housekeeping team keep {ward} immaculate even when it's busy."],
        "negative": [
            "Side rooms aren't deep cleaned fast enough after infectious patients leave.",
            "There's nowhere to store equipment so the corridors on {ward} are cluttered and dusty.",
        ],
    },
}
_SELF_ONLY_FEELINGS = {"I felt safe", "I felt properly looked after", "I felt like a nuisance",
                       "it knocked my confidence"}
_PROXY_SHARE = 0.35  # patient comments written by a relative
_FEEL_NEG_STAFF = ["morale is on the floor", "people are burning out", "I'm thinking of leaving",
                   "it isn't sustainable", "we are exhausted"]

_OPENERS = {
    "patient": [
        "", "", "", "I was admitted through A&E with a chest infection. ",
        "{relative_cap} was on {ward} for a week. ", "I spent five days on {ward}. ",
        "Just wanted to say something about my stay. ", "Second admission this year. ",
        "I came in with a fall and a broken wrist. ", "Visiting {relative} most days, I noticed a lot. ",
        "Overall an okay experience. ", "Long stay on {ward} after my op. ",
        "I'm writing on behalf of {relative}. ", "My first time in hospital since I was a child. ",
    ],
    "staff": [
        "", "", "As {a_role} on {ward}: ", "I work {shift} on {ward}. ",
        "Speaking as {a_role}, ", "From where I stand as {a_role}, ", "Honestly? ",
        "Been here three years now. ", "Newly qualified here. ",
    ],
}
_CLOSERS = {  # by source, then by the comment's overall sentiment
    "patient": {
        "any": ["", "", "", "", " Please pass this on.", " Hope this helps someone."],
        "positive": [" Thank you.", " I'd recommend the ward to anyone.", " Thanks to everyone.",
                     " Keep up the good work.", " Thank you all so much."],
        "negative": [" Something needs to change.", " Would be nice to see this looked at.",
                     " Not what you expect from the NHS.", " Please sort this out."],
        "mixed": [" I'd still recommend the ward.", " A mixed experience overall.", " Room for improvement."],
    },
    "staff": {
        "any": ["", "", "", " Small changes would help a lot."],
        "positive": [" Proud of the team.", " Long may it continue."],
        "negative": [" Something has to give.", " Would welcome a QI project on this.",
                     " Please listen to the frontline."],
        "mixed": [" Proud of the team though.", " Getting there."],
    },
}
_JOIN_SAME = ["", "Also, ", "And ", "On top of that, ", "As well as that, "]
_JOIN_CONTRAST = ["But ", "That said, ", "On the other hand, ", "However, ", "Still, "]


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _slot_values(rng: np.random.Generator, ward: str) -> dict[str, str]:
    """One draw of every slot, shared by all sentences of a comment (same relative throughout)."""
    values = {k: _pick(rng, v) for k, v in _SLOTS.items()}
    values["noise2"] = _pick(rng, [n for n in _SLOTS["noise"] if n != values["noise"]])
    values["relative_cap"] = values["relative"][0].upper() + values["relative"][1:]
    values["feel_neg_staff"] = _pick(rng, _FEEL_NEG_STAFF)
    article = "an" if values["role"][0] in "aeiouAEIOU" or values["role"] in ("F1", "F2", "HCA", "OT") else "a"
    values["a_role"] = f"{article} {values['role']}"
    values["ward"] = ward if ward in ("AMU", "ED") else f"{ward} ward"
    return values


def _voice(template: str) -> str:
    """'proxy' if a relative is the patient, 'self' if the writer is the patient, else 'any'."""
    if "{relative" in template:
        return "proxy"
    return "self" if re.search(r"\b(I|I'm|I've|I'd|my|me|My)\b", template) else "any"


def _pick_voiced(rng: np.random.Generator, templates: list[str], voice: str) -> str:
    fits = [t for t in templates if _voice(t) in (voice, "any")]
    return _pick(rng, fits or templates)


def _fill(template: str, rng: np.random.Generator, values: dict[str, str], voice: str = "self") -> str:
    # feelings are drawn afresh per sentence so two sentences do not repeat the same phrase;
    # a relative writing does not say "I felt safe" about someone else's stay
    feel = {k: [f for f in _SLOTS[k] if voice != "proxy" or f not in _SELF_ONLY_FEELINGS]
            for k in ("feel_pos", "feel_neg")}
    return template.format(**{**values, "feel_pos": _pick(rng, feel["feel_pos"]),
                              "feel_neg": _pick(rng, feel["feel_neg"])})


def _lower_first(text: str) -> str:
    """Lower-case the first letter after a joining word, but not 'I' or an acronym (A&E, TTOs)."""
    word = text.split(" ", 1)[0]
    if word in ("I", "I'm", "I've", "I'd") or (len(word) > 1 and word[1].isupper()):
        return text
    return text[0].lower() + text[1:]


def _sentence_case(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def compose_comment(rng: np.random.Generator, source: str, ward: str,
                    themes: list[str], positive: list[bool]) -> str:
    """One comment covering `themes` with the given sentiments, in the voice of `source`."""
    bank = _PATIENT if source == "patient" else _STAFF
    values = _slot_values(rng, ward)
    # the patient writes, or a relative writes about them; staff write as themselves
    voice = ("proxy" if rng.random() < _PROXY_SHARE else "self") if source == "patient" else "self"
    sentences = []
    for i, (theme, pos) in enumerate(zip(themes, positive)):
        s = _fill(_pick_voiced(rng, bank[theme]["positive" if pos else "negative"], voice), rng, values, voice)
        if i:
            join = _pick(rng, _JOIN_CONTRAST if pos != positive[i - 1] else _JOIN_SAME)
            s = join + (_lower_first(s) if join else s)
        sentences.append(_sentence_case(s))
    opener = _fill(_pick_voiced(rng, _OPENERS[source], voice), rng, values, voice)
    overall = "positive" if all(positive) else "negative" if not any(positive) else "mixed"
    closer = _pick(rng, _CLOSERS[source]["any"] + _CLOSERS[source][overall])
    if opener.endswith(", "):
        sentences[0] = _lower_first(sentences[0])
    return opener + " ".join(sentences) + closer


# Incident descriptions: a category-specific event, then an outcome matching the harm grade.
_INCIDENT_EVENTS = {
    "Slips, trips and falls": [
        "Patient found on the floor beside the bed {clock}.",
        "Unwitnessed fall in bay {bay} while walking to the toilet {clock}.",
        "Patient slid from chair to floor during transfer with one HCA.",
        "Witnessed fall in the bathroom; patient had declined help to mobilise.",
        "Patient climbed over bed rails and fell {clock}.",
    ],
    "Medication": [
        "Enoxaparin dose omitted; drug chart not reviewed after transfer from AMU.",
        "IV antibiotic given {delay} late as no prescriber available.",
        "Patient given paracetamol twice within four hours by two different nurses.",
        "Insulin prescribed in units written as 'u' and misread.",
        "Penicillin prescribed despite documented allergy; stopped by the pharmacist before administration.",
        "Controlled drug count discrepancy found at handover {clock}.",
        "Time-critical Parkinson's medication given {delay} late.",
    ],
    "Pressure ulcers": [
        "Category 2 pressure ulcer found on sacrum at skin check.",
        "Heel pressure damage noted; repositioning chart incomplete overnight.",
        "Pressure ulcer present on admission from the community, reported for information.",
        "Device-related pressure damage under oxygen mask tubing.",
    ],
    "Staffing and workforce": [
        "Ward {short} registered nurses on the night shift; escalated to the site manager.",
        "No HCA for bay {bay} on the late shift; bank request unfilled.",
        "F1 covering two wards {clock}; tasks delayed.",
        "Enhanced supervision not possible due to staffing.",
    ],
    "Access, admission, transfer and discharge": [
        "Patient transferred to the ward {clock} without a handover.",
        "Patient discharged without take-home medication.",
        "Patient boarded in an escalation space for over {hours} hours.",
        "Delayed transfer from ED; decision to admit to arrival on ward {hours} hours.",
    ],
    "Treatment and procedure": [
        "Nasogastric tube position not confirmed before feed started.",
        "Cannula left in situ for five days without review.",
        "Blood transfusion started without a second check.",
        "Planned procedure cancelled as patient not kept nil by mouth.",
    ],
    "Communication and documentation": [
        "DNACPR form not transferred with the patient.",
        "Ward round plan not documented; nursing staff unaware of new observations frequency.",
        "Wrong patient's results filed in the notes.",
        "Family not informed of transfer to another ward.",
    ],
    "Violence and aggression": [
        "Verbal abuse to staff from a visitor at the nurses' station.",
        "Patient with delirium struck an HCA during personal care.",
        "Intoxicated patient threatened staff in the waiting area {clock}.",
    ],
    "Infection prevention and control": [
        "C. difficile positive patient not isolated for {hours} hours.",
        "Side room door left open for a patient on contact precautions.",
        "Norovirus symptoms in bay {bay}; bay closed to admissions.",
    ],
    "Patient identification": [
        "Patient without an ID band on arrival to the ward.",
        "Blood sample labelled away from the bedside and rejected by the lab.",
        "Two patients with the same surname in bay {bay}; wrong notes brought to the ward round.",
    ],
    "Medical devices and equipment": [
        "Infusion pump alarmed repeatedly; removed from use and sent to EBME.",
        "No working suction at bed space {bay} during a deterioration.",
        "Hoist sling unavailable; transfer delayed.",
    ],
    "Diagnosis and tests": [
        "Abnormal potassium result not acted on for {hours} hours.",
        "Chest X-ray report recommending CT not followed up before discharge.",
        "Troponin requested but never sent.",
    ],
}
_OUTCOMES = {
    "No harm": ["No harm to the patient.", "Noticed in time, no harm.",
                "Doctor informed, no harm identified.", "Escalated; no harm resulted."],
    "Low": ["Minor harm, managed on the ward.", "Extra monitoring for 24 hours, no lasting effect.",
            "Short-lived distress to the patient.", "Needed a minor extra treatment only."],
    "Moderate": ["Needed additional treatment and a longer stay.",
                 "Deterioration needed outreach review and escalation of treatment."],
    "Severe": ["Permanent harm; escalated as a patient safety incident investigation.",
               "Transferred to critical care."],
    "Death": ["Patient died; referred for a structured judgement review and to the coroner."],
}
_FALL_OUTCOMES = {
    "No harm": ["No injury found; observations stable.", "Checked by the F1, no injury.",
                "No apparent injury; neuro obs started as on anticoagulant."],
    "Low": ["Small skin tear to forearm, dressed.", "Bruise to hip; X-ray not needed.",
            "Graze to the knee, cleaned and dressed."],
    "Moderate": ["X-ray showed a fractured wrist; referred to orthopaedics.",
                 "Laceration to the scalp needing sutures."],
    "Severe": ["X-ray showed a fractured neck of femur; surgery needed.",
               "CT head showed a subdural haematoma; neurosurgical referral."],
    "Death": ["Patient died after a head injury; referred for a structured judgement review and to the coroner."],
}


def compose_incident(rng: np.random.Generator, category: str, harm: str) -> str:
    """A short Datix-style description for an incident of this category and harm."""
    event = _pick(rng, _INCIDENT_EVENTS[category]).format(
        clock=f"at {int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 12)) * 5:02d}",
        bay=int(rng.integers(1, 7)),
        delay=_pick(rng, ["2 hours", "3 hours", "90 minutes", "4 hours", "an hour"]),
        short=_pick(rng, ["two", "three"]),
        hours=int(rng.integers(6, 20)),
    )
    outcomes = _FALL_OUTCOMES if category == "Slips, trips and falls" else _OUTCOMES
    return f"{event} {_pick(rng, outcomes[harm])}"
