"""SMART aim analyser: find direction, measure, baseline, target, time frame and setting in an aim.

The Model for Improvement's first question ("What are we trying to accomplish?") is answered
by an aim that says how much, of what, by when, for whom. This module reads an aim written in
ordinary clinical English ("reduce by a third within 6 months", "from a median of 95 minutes to
under 60 minutes by 31/03/2027") with regular expressions, so every finding comes with the
words it was found in. It also names the misconceptions learners commonly show (an aim with no
number or date, a target with no baseline, a solution in disguise, an aim too big for a rotation).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .text import preceded_by, sentences, strip_markdown

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20, "twenty-four": 24, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "a": 1, "an": 1,
}
_FRACTIONS = {
    "half": 50.0, "a half": 50.0, "one half": 50.0, "a third": 100 / 3, "one third": 100 / 3,
    "one-third": 100 / 3, "two thirds": 200 / 3, "two-thirds": 200 / 3, "a quarter": 25.0,
    "one quarter": 25.0, "one-quarter": 25.0, "three quarters": 75.0, "a fifth": 20.0,
    "one fifth": 20.0, "a tenth": 10.0, "one tenth": 10.0,
}
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_WNUM = r"(?:twenty-four|thirteen|fourteen|fifteen|sixteen|eighteen|eleven|twelve|twenty|thirty|forty|fifty|" \
        r"sixty|seventy|eighty|ninety|hundred|one|two|three|four|five|six|seven|eight|nine|ten)"
_ANYNUM = rf"(?:{_NUM}|{_WNUM})"
_PER = r"per\s+(?:1,?000|100|10,?000|100,?000)\s+(?:[a-z-]+\s+){0,2}?(?:bed[- ]?days|patient[- ]days|days|admissions|" \
       r"patients|discharges|births|attendances|procedures|encounters|visits|deliveries|episodes|hours)"
_UNIT = (
    rf"(?:\s?%|\s?per ?cent\b|\s?percent\b|\s?percentage points?\b|\s?pp\b|\s?°\s?C\b|"
    rf"\s?(?:minutes?|mins?|hours?|hrs?|days?)\b(?:\s+{_PER})?|"
    rf"\s*(?:(?:in(?:patient)?\s+)?falls?|incidents?|events?|errors?|infections?|readmissions?|"
    rf"patients?|admissions?)?\s*{_PER})"
)
_CMP = r"(?:at least|no fewer than|no less than|over|above|more than|greater than|under|below|less than|" \
       r"fewer than|no more than|at most|a maximum of|a minimum of|<=?|>=?|≤|≥)"
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|" \
         r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?"

_INC = r"increas\w*|rise in|rais(?:e|es|ed|ing)|boost\w*|doubl\w*|tripl\w*|maximi[sz]\w*|grow\w*|rise|rising|higher|" \
       r"more (?:patients|people|of)|achiev\w* (?:at least|over|above)|up from|improve\w* (?:uptake|compliance|completion)"
_DEC = r"quicker|faster|sooner|earlier|reduc\w*|bring\w* (?:[\w']+ ){0,3}down|fall in|decreas\w*|lower\w*|cut(?:s|ting)?|halv\w*|minimi[sz]\w*|eliminat\w*|shorten\w*|fewer|less|" \
       r"drop\w*|fall(?:s|ing)? (?:to|from|by|below|under)|declin\w*|down from|bring\w* down|prevent\w*|" \
       r"tak\w* (?:[\w-]+ ){1,3}off|more (?:quickly|rapidly|promptly)|less (?:often|frequently)"
_MAINT = r"maintain\w*|sustain\w*|keep\w*|remain\w*|hold\w* (?:at|above|below)"
_DIRECTION = re.compile(rf"\b(?P<inc>{_INC})\b|\b(?P<dec>{_DEC})\b|\b(?P<maint>{_MAINT})\b", re.I)
_IMPROVE = re.compile(r"\bimprov\w*\b", re.I)

_MEASURE_HEAD = re.compile(
    r"\b(?:percentage|proportion|per ?cent(?:age)?|number|numbers|rate|rates|time|times|median|mean|"
    r"average|compliance|completion|uptake|incidence|prevalence|frequency|count|length of stay|delay|"
    r"delays|waiting|wait|score|scores|minutes|hours|duration|ratio|days|timings?|timeliness|accuracy)\b|%|" + _PER,
    re.I,
)
_EVENT = re.compile(
    r"\b(?:falls?|readmissions?|incidents?|infections?|pressure (?:ulcers?|injuries)|cardiac arrests?|"
    r"missed doses|omitted doses|medication errors?|errors?|complaints?|DNAs?|cancellations?|"
    r"breaches|transfers|admissions|discharges|referrals|prescriptions?|escalations?|"
    r"(?:risk )?assessments?|observations|bloods?|tests?|scans?)\b",
    re.I,
)
#: a thing observed or counted that names a measure after a verb of change even without a number ("minimise the
#: inappropriate use of physical restraint", "reduce falls"); a topic such as "sepsis care" is not one
_OBSERVED = re.compile(
    r"\b(?:use|usage|utili[sz]ation|risk of|temperatures?|contamination|identification|recording|documentation|"
    r"adherence|restraint|hypothermia|extubations?|violence|aggression|reattendances?|omissions?|incidence|"
    r"falls?|readmissions?|incidents?|infections?|errors?|complaints?|delays?|length of (?:hospital )?stay|"
    r"mortality|deaths|attendances?|injur(?:y|ies)|ulcers?|transfusions?|prescribing|"
    r"reconcil\w+|missed \w+|omitted \w+|cancell\w+)\b", re.I)

#: head nouns of a place or service where care is given: a setting is a noun phrase ending in one of these
#: ("on the 3 older adult wards", "in the pathology laboratory", "across our four diabetes clinics")
_PLACE = (r"(?:wards?|units?|departments?|ED|A&E|AMU|SAU|MAU|ICU|HDU|CCU|NICU|PICU|SCBU|hospitals?|trust|practices?|"
          r"surgery|surgeries|clinics?|theatres?|sites?|bays?|firm|services?|emergency department|resus|"
          r"resuscitation room|care homes?|homes|centres?|centers?|village|specialties|community teams?|hospices?|"
          r"laborator(?:y|ies)|labs?|pharmac(?:y|ies)|dispensar(?:y|ies)|suites?|hubs?|caseloads?|prisons?|schools?|"
          r"network|PCN|ward rounds?|pathways?|lists?|lounges?)")
#: a word inside a noun phrase (not a preposition that starts another phrase)
_NOT_PREP = r"(?!(?:on|in|at|of|for|to|from|by|with|per|and|or)\b)"
#: words that qualify a patient group as the people a setting is about: "patients admitted with", "children seen at"
_QUALIFIER = (r"who|admitted|aged|presenting|receiving|having|born|attending|discharged|undergoing|seen|treated|"
              r"referred|registered|booked|taking|prescribed|requiring|needing|living|known|cared|managed|followed")
#: people a setting may name instead of a place: "among pregnant women", "for residents of four care homes"
_GROUP = (r"(?:patients|inpatients|outpatients|admissions|adults|people|residents|women|mothers|men|children|babies|"
          r"infants|families|households|neonates|newborns|adolescents|teenagers|young people|service users|clients|"
          r"carers|veterans|attendees|users|elders)")
_STOP = (
    rf"(?=\s+from\s+(?:a\s+|the\s+)?(?:baseline\s+|median\s+|mean\s+|average\s+|current\s+)*(?:of\s+)?{_ANYNUM}"
    rf"|\s+(?:up |down )?to\s+(?:a\s+(?:median|mean|rate)\s+of\s+)?(?:{_CMP}\s+)?{_NUM}"
    rf"|\s+by\s+(?:at least\s+)?{_ANYNUM}|\s+by\s+(?:a|one|two|three|half)\b|\s+by\s+(?:the\s+)?end\b"
    rf"|\s+by\s+{_MONTH}|\s+(?:within|over|in|during)\s+(?:the\s+)?(?:next|coming|following)\b"
    rf"|\s+(?:within|in|over)\s+{_ANYNUM}\s*(?:-|\s)?(?:weeks?|months?|years?)\b"
    rf"|\s+(?:until|so that|in order|through|via|using|whilst|while|which)\b"
    rf"|\s+before\s+(?:\d|the\s+end|{_MONTH}|I\b|we\b)"
    rf"|\s+(?:on|in|at|across|throughout|within|among|amongst)\s+(?:the\s+|our\s+|my\s+|all\s+|a\s+|{_ANYNUM}\s+)?"
    rf"(?:[\w&'-]+\s+){{0,3}}?{_PLACE}\b|\s+(?:among|amongst)\s"
    rf"|\s+(?:down\s+)?to\s+(?:zero|nil|none)\b"
    rf"|\s*[.,](?=\s|$)|\s*[;:(]|\s+-\s|$)"
)

_SOLUTION = re.compile(
    r"\b(?:introduc\w*|implement\w*|creat\w*|develop\w*|design\w*|launch\w*|roll(?:ing|ed)? out|"
    r"set(?:ting)? up|establish\w*|deliver\w*|provid\w*|produc\w*|put(?:ting)? up|display\w*|install\w*|"
    r"start(?:ing)? using|adopt\w*|teach\w*|educat\w*|run(?:ning)?|mak\w* (?:a|an)|writ\w*|us(?:e|ing)|giv(?:e|es|ing))\b"
    r"[^.;]{0,80}?\b(?:proformas?|checklists?|stickers?|posters?|bundles?|app|apps|e-?learning|"
    r"teaching(?: sessions?)?|training(?: sessions?)?|education(?:al)?(?: sessions?)?|sessions?|leaflets?|"
    r"stamps?|templates?|pathways?|protocols?|guidelines?|tools?|grab bags?|huddles?|alerts?|prompts?|"
    r"order sets?|care plans?|forms?|boards?|signs?|bracelets?|lanyards?|videos?|campaigns?|"
    r"algorithms?|flowcharts?|proforma|system|trolleys?|alarms?|sheets?|rules?|rounds?|rounding|rotas?|"
    r"lounges?|labels?|flags?|whiteboards?|stock|huddles?|champions?)\b",
    re.I,
)
_TOO_BIG = re.compile(
    r"\b(?:(?:across|throughout)\s+(?:the\s+)?(?:whole\s+|entire\s+)?(?:trust|hospital|organisation|"
    r"organization|health board|region|nhs|country|uk|england|icb|integrated care (?:board|system)|"
    r"all (?:\w+\s+)?(?:wards|sites|hospitals|departments))|(?:the\s+)?(?:whole|entire)\s+(?:trust|hospital|"
    r"organisation|organization|health board|region|nhs|country|icb)|trust-wide|hospital-wide|"
    r"nationwide|nationally|(?<!born )(?:in|at|across|for|throughout) (?:the|our) (?:[\w-]+\s+){0,3}?(?:hospital|trust)\b"
    r"(?!'s| \w+ ward)|"
    r"all (?:\w+\s+)?(?:wards|hospitals|sites|trusts|departments)\b|every (?:\w+\s+)?"
    r"(?:ward|hospital|site|trust|department)\b|all (?:adult )?(?:inpatients|patients) in the (?:hospital|trust)"
    # a whole hospital or more: "at a large teaching hospital", "in a tertiary referral centre", "across the county"
    r"|(?:at|in|across|within)\s+a\s+(?:[\w-]+\s+){0,3}?(?:hospital|referral centre|referral center|trust|health "
    r"system|health board)\b|across (?:the\s+)?(?:county|region|country|system|borough)\b|all (?:[\w-]+\s+){0,2}"
    r"specialties\b|for all (?:our\s+)?patients\b(?!\s+(?:on|in|at|admitted|with|aged|attending|who|under|over|"
    r"undergoing|having|born|discharged))|(?:from|by|of) the (?:whole\s+)?trust\b"
    # several hospitals or trusts, or more wards, units, homes or practices than one service runs (the corpus
    # labels: "the 3 older adult wards" and "six wards of one service" are manageable, "8 care homes" is not)
    r"|\b(?:two|both|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[2-9]|\d{2,})\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:hospitals|trusts|health boards|health systems|systems|regions|counties|ICBs|sites)\b"
    r"|\b(?:seven|eight|nine|ten|eleven|twelve|[7-9]|\d{2,})\s+(?:[\w'-]+\s+){0,3}?(?:wards|units|departments|"
    r"practices|surgeries|care homes|homes|clinics|sites|services|centres|centers|teams))",
    re.I,
)
#: a solution or an audit named just before to set it aside: "not by introducing a checklist", "rather than an audit"
_SET_ASIDE = re.compile(r"\b(?:not|rather than|instead of|unlike|more than)\s+(?:(?:just|only|simply|merely|by|"
                        r"another|an?|the|one-off|yet)\s+){0,3}$", re.I)
#: a big scope named as what comes later or what the aim is not: "before spreading across the trust",
#: "one unit, not the whole hospital"
_LATER_OR_NOT = re.compile(r"\b(?:not(?: yet| just| now)?|rather than|instead of|(?:then|later|eventually)"
                           r"(?: \w+ing)?|spread\w*(?: it)?|scal\w* (?:it )?up|roll\w* (?:it )?out|extend\w*(?: it)?)"
                           r"\s+(?:(?:to|across|throughout)\s+)?$", re.I)
_SETTING = re.compile(
    # a prepositional phrase whose head noun is a place; "to", "from" and "of" only before a determiner or a number
    # ("admissions to the ward", "residents of four care homes"), not "to cut hospital admissions"
    r"\b(?:(?!at\s+all\s+(?:at|in|on)\b)(?:on|in|at|across|within|throughout|for)\s+(?:the\s+|our\s+|my\s+|all\s+|a\s+|"
    r"one\s+)?"
    rf"|(?:to|from|of)\s+(?:the|our|my|all|a|one|each|both|{_ANYNUM})\s+)"
    r"(?:(?:[\w&'-]+)\s+){0,4}?"
    + _PLACE + r"\b(?!\s+(?:stays?|staff|nurses|managers?|clerks?|teams?)\b)(?-i:(?:\s+(?:\d+|[A-Z]\b|[A-Z][a-z]+\b))?)"
    r"|\bward\s+(?-i:(?:\d+[A-Z]?|[A-Z]\b|[A-Z][a-z]+\b))"
    r"|\b(?:our|my|this)\s+(?:[\w'-]+\s+){0,3}?(?:wards?|units?|departments?|clinics?|NICU|theatres?)(?:'s)?\b"
    # "our district nursing team", "my community mental health service" (not the QI or project team)
    r"|\b(?:our|my)\s+(?!(?:QI|quality|improvement|project|research|audit|study|steering)\b)(?:[\w'-]+\s+){1,3}?"
    r"(?:teams?|services?)\b"
    # a clinical team, service or place that owns the aim: "the community mental health team aims to ...", "The
    # haematology laboratory aims to ..." (not the QI team)
    r"|\b(?:the|our|my|this)\s+(?!(?:QI|quality|improvement|project|research|audit|study|steering)\b)(?:[\w'-]+\s+){0,3}?"
    r"(?:teams?|" + _PLACE + r")\b(?=\s+(?:aim|aims|aimed|set|sets|will|wants?|wanted|intends?|intended|planned|plans)\b)"
    r"|\b(?:[A-Z][a-z]+\s+)?ward\b(?!\s+(?:staff|nurses|managers?|clerks?|rounds?)\b)(?=\s|,|\.|$)"
    # a patient group qualified by who they are: "for patients admitted with ...", "in women booked at ..."
    r"|(?<!percentage )(?<!proportion )(?<!number )(?<!share )(?<!rate )(?<!% )\b(?:for|in|among|amongst|of)\s+"
    r"(?:all\s+|our\s+)?(?:[\w'-]+\s+){0,2}?" + _GROUP + r"\s+"
    r"(?:with|over|on|in|at|under|" + _QUALIFIER + r")\b[^,.;]{0,60}"
    # "among" always names the group a measure is taken in: "among pregnant women", "amongst older adults"
    r"|\b(?:among|amongst)\s+(?:all\s+|our\s+|the\s+)?(?:[\w'-]+\s+){0,3}?" + _GROUP + r"\b[^,.;]{0,60}"
    # a group qualified by where they are seen, even inside the measure: "90% of children seen at their reviews"
    r"|(?<!of )\b(?:patients|babies|children|families|adults)\s+(?:" + _QUALIFIER + r")\b[^,.;]{0,60}"
    r"|\b(?:patients|babies|children|families|adults|women|residents)\s+(?:seen|treated|cared for|registered|booked)"
    r"\s+(?:at|in|on|by)\b[^,.;]{0,60}"
    # a place named as a proper noun: "the Acute Day Unit", "Ashby Ward"
    r"|\bthe\s+(?-i:(?:[A-Z][\w'-]*\s+){1,4}(?:Wards?|Units?|Departments?|Clinics?|Centres?|Centers?|Services?|Suites?|"
    r"Hubs?|Practices?|Surgery|Hospice|Home|Laboratory|Pharmacy))\b"
    # several places counted: "Twelve hospitals", "40 wards", "our two children's emergency departments"
    r"|(?<![\d,.])\b" + _ANYNUM + r"\s+(?:" + _NOT_PREP + r"[\w'-]+\s+){0,3}?" + _PLACE + r"\b"
    # a patient group with two or more modifiers as a subject: "preoperative general surgical patients"
    r"|\b(?!(?:the|all|our|of|for|every|more|most|many|these|those|eligible|with|and|in|on|at)\b)[a-z][\w-]+\s+"
    r"(?!(?:the|all|our|of|for|every|more|most|many|these|those|eligible|with|and|in|on|at)\b)[a-z][\w-]+\s+"
    r"(?:[a-z][\w-]+\s+)?(?:patients|inpatients|outpatients|residents)\b"
    r"|\b(?:for|of)\s+(?:our|all\s+(?:our\s+)?)\s*(?:[\w'-]+\s+)?(?:inpatients|patients|residents)\b"
    r"|\b(?:AMU|SAU|MAU|ICU|HDU|CCU|A&E|ED|NICU|resus)\b",
    re.I,
)
_TIME_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("date", re.compile(
        rf"\b(?:by|before|until|till|no later than|on|for)\s+(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?)?"
        rf"{_MONTH}(?:\s*,?\s*(?:20)?\d{{2}}\b)?", re.I)),
    ("date", re.compile(
        rf"\b(?:by|before|until|at|in)\s+(?:the\s+)?(?:end|start|beginning|close)\s+of\s+(?:the\s+)?{_MONTH}"
        rf"(?:\s*,?\s*(?:20)?\d{{2}}\b)?", re.I)),
    ("date", re.compile(rf"\b(?:in|during)\s+{_MONTH}\s*,?\s*20\d{{2}}\b", re.I)),
    # a period with its end: "from October 2025 to May 2026", "between July 2016 and March 2018"
    ("date", re.compile(
        rf"\b(?:from|between)\s+(?:{_MONTH}\s*,?\s*)?(?:20\d{{2}}|{_MONTH})\s*(?:to|and|until|till|-)\s*"
        rf"(?:(?:the\s+)?end\s+of\s+)?{_MONTH}\s*,?\s*(?:20)?\d{{2}}\b", re.I)),
    # 31/03/2027, 13.04.26 (not a temperature range such as 36.5-37.5 C)
    ("date", re.compile(r"\b(?:(?:by|before|until|on)\s+)?\d{1,2}[/.-]\d{1,2}[/.-](?:20)?\d{2}\b(?![\d.]*\s*°)", re.I)),
    ("date", re.compile(r"\b(?:by|before|until|no later than)\s+(?:0?[1-9]|1[0-2])/(?:20)?\d{2}\b(?![/\d])", re.I)),
    ("date", re.compile(r"\b(?:(?:by|before|until|on)\s+)?20\d{2}-\d{2}-\d{2}\b", re.I)),
    ("date", re.compile(
        r"\b(?:by|before|until|in|during|throughout|through|across|for)\s+(?:the\s+)?(?:end\s+of\s+)?(?:Q[1-4](?:\s+20\d{2})?|"
        r"quarter\s+[1-4]|(?:spring|summer|autumn|winter)(?:\s+20\d{2})?|20\d{2}(?:[/-]\d{2})?)\b", re.I)),
    # a financial or academic year named by its years: "by the end of the 2026/27 financial year", "in FY2027"
    ("date", re.compile(
        r"\b(?:by|before|until|in|during|throughout|through|over|across|for)\s+(?:the\s+)?(?:end\s+of\s+)?(?:the\s+)?"
        r"(?:(?:financial|fiscal|academic)\s+year\s+)?(?:20\d{2}[/-](?:20)?\d{2}|FY\s?(?:20)?\d{2}(?:[/-]\d{2})?)\b",
        re.I)),
    # a period written as two month-year ends, bracketed or bare: "(April 2026 to March 2027)", "May-October 2026"
    ("date", re.compile(rf"\b{_MONTH}\s*,?\s*(?:20\d{{2}}\s*)?(?:to|until|till|-|–)\s*{_MONTH}\s*,?\s*20\d{{2}}\b", re.I)),
    # "by month 6", "at the end of month 9"
    ("duration", re.compile(r"\b(?:by|at|within)\s+(?:the\s+end\s+of\s+)?month\s+\d{1,2}\b", re.I)),
    ("duration", re.compile(
        rf"\b(?:within|in|over|during|for|after|following)\s+(?:the\s+)?(?:next|coming|following|first)?\s*(?:an?\s+)?"
        rf"(?:{_ANYNUM})\s*(?:-|\s)?(?:weeks?|months?|years?)\b", re.I)),
    ("duration", re.compile(
        rf"\b(?:within|in|over|during)\s+(?:the\s+)?(?:next|coming|following)\s+(?:{_ANYNUM}\s*(?:-|\s)?)?"
        rf"(?:days?|weeks?|months?|years?|fortnight|quarter)\b", re.I)),
    ("duration", re.compile(r"\b(?:by|at)\s+(?:the\s+end\s+of\s+)?week\s+\d{1,2}\b", re.I)),
    ("duration", re.compile(r"\b(?:within|in|over)\s+(?:a|one)\s+(?:single\s+)?(?:year|month|fortnight)\b", re.I)),
    ("event", re.compile(
        r"\b(?:by|before|until|at|within)\s+(?:the\s+)?(?:end|close|finish)\s+of\s+(?:the\s+|my\s+|our\s+|this\s+|"
        r"the\s+current\s+)?(?:[\w-]+[ -])?(?:[\w-]+[ -])?(?:rotation|placement|attachment|post|foundation year|"
        r"FY[12]|year|academic year|financial year|project|term|quarter|block|job|month|week|winter|summer)\b",
        re.I)),
    ("event", re.compile(
        r"\b(?:before|by the time)\s+(?:I|we)\s+(?:rotate|leave|move on|finish)\b|\bby changeover\b"
        r"|\bby\s+(?:the\s+)?next\s+(?:week|month|year|quarter|rotation|changeover)\b"
        r"|\b(?:within|during)\s+(?:this|my|the)\s+(?:[\w-]+\s+)?(?:rotation|placement|attachment)\b"
        r"|\b(?:this|next)\s+(?:year|month|quarter|winter|summer|rotation)\b", re.I)),
]
_VAGUE_TIME = re.compile(r"\b(?:soon|in the future|over time|eventually|ongoing|as soon as possible|asap|"
                         r"in due course|long[- ]term)\b", re.I)

_BASELINE_PATTERNS = [
    re.compile(
        rf"\bfrom\s+(?:a\s+|the\s+|our\s+)?(?:(?:current|baseline|median|mean|average)\s+)*(?:of\s+)?"
        rf"(?:{_CMP}\s+)?(?P<b>{_ANYNUM})(?P<bu>{_UNIT})?", re.I),
    re.compile(
        rf"\b(?:currently|at present|presently|at baseline|baseline(?:\s+(?:data|audit|median|mean|rate|"
        rf"compliance|performance|level))?|up from|down from|only)\b[^.;\d]{{0,40}}?"
        rf"(?P<b>{_NUM})(?P<bu>{_UNIT})?", re.I),
    re.compile(
        rf"\b(?:current|baseline)\s+(?:\w+\s+){{0,3}}?(?:is|was|of|=|:)\s+(?:only\s+|around\s+|about\s+)?"
        rf"(?P<b>{_NUM})(?P<bu>{_UNIT})?", re.I),
    re.compile(rf"(?P<b>{_NUM})(?P<bu>{_UNIT})\s+(?:at baseline|currently|at present)\b", re.I),
    # a level stated with a verb of state: "stood at 21%", "averaged 65 minutes", "which was complete for 47% of ..."
    re.compile(rf"\b(?:stood|stands|sat|sits|ran|running)\s+at\s+(?:only\s+|about\s+|around\s+)?(?P<b>{_NUM})(?P<bu>{_UNIT})",
               re.I),
    re.compile(rf"\baverag(?:ed|es|ing)\s+(?:of\s+|at\s+|only\s+|about\s+|around\s+)?(?P<b>{_NUM})(?P<bu>{_UNIT})", re.I),
    re.compile(rf"\b(?:which|that)\s+(?:was|were|is|are|had been|has been)\b[^.;\d]{{0,50}}?(?P<b>{_NUM})(?P<bu>{_UNIT})",
               re.I),
]


# ---------------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------------
@dataclass
class Quantity:
    """A number found in the aim, with its unit as written."""

    value: float
    """the number (a percentage as 45.0, a time in the unit given)"""
    unit: str | None
    """'%', 'minutes', 'percentage points', 'falls per 1,000 bed days', ... or None if none given"""
    text: str
    """the words it was found in"""


@dataclass
class Target(Quantity):
    """The target: either a level to reach or a change relative to the baseline."""

    kind: str = "absolute"
    """'absolute' (a level to reach: 'to 90%'), 'relative' (a proportional change: 'by a third',
    'halve', 'by 20%') or 'difference' (a change in the measure's own units: 'by 10 percentage
    points', 'by 15 minutes')"""
    comparator: str | None = None
    """'at least', 'under', ... as written, if any"""


@dataclass
class TimeFrame:
    text: str
    """the words as found ('by March 2027', 'within 6 months', 'by the end of the rotation')"""
    kind: str
    """'date', 'duration' or 'event' (the end of a rotation, placement or year)"""


@dataclass
class Misconception:
    code: str
    message: str


@dataclass
class SmartAnalysis:
    """What a SMART aim says, with the words each part was found in (`spans`)."""

    aim_text: str
    """the sentence read as the aim"""
    direction: str | None = None
    """'increase', 'decrease', 'maintain' or None"""
    measure: str | None = None
    """the quantity to change, as written"""
    baseline: Quantity | None = None
    target: Target | None = None
    time_frame: TimeFrame | None = None
    population: str | None = None
    """the setting or patient group ('on Ward 7', 'patients admitted with ...')"""
    too_big: bool = False
    """the scope is a whole trust, hospital or region"""
    solution: str | None = None
    """a change idea named in the aim ('introduce a sepsis proforma'), if any"""
    spans: dict[str, str] = field(default_factory=dict)
    """field name -> the words it was found in"""
    missing: list[str] = field(default_factory=list)
    is_smart: bool = False
    """direction, measure, numeric target and time frame all present, scope not too big"""
    misconceptions: list[Misconception] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def feedback(self) -> str:
        """One short paragraph naming what is missing and the misconceptions seen."""
        if not self.misconceptions:
            return "The aim states a direction, a measure, a numeric target and a time frame."
        return " ".join(m.message for m in self.misconceptions)


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------
def _to_number(s: str) -> float | None:
    s = s.strip().lower()
    if s in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[s])
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return None


def _unit(u: str | None) -> str | None:
    if not u or not u.strip():
        return None
    u = " ".join(u.split()).lower()
    if u in ("%", "per cent", "percent"):
        return "%"
    if u.startswith("percentage point") or u == "pp":
        return "percentage points"
    if u.startswith("min"):
        return "minutes" + u[u.find(" per"):] if " per" in u else "minutes"
    if u.startswith(("hour", "hr")):
        return "hours"
    return u


#: words that say a sentence states the intent: "Our aim is ...", "The goal was to ...", "We will ...", "Purpose: to ..."
_AIM_CUE = re.compile(r"\b(?:aim(?:s|ed|ing)?|goals?|objectives?|purpose|set out to|we will|I will|we want|we intend|"
                      r"decided to|sought to|seeks? to|hoped to|hopes? to|intended to|was designed to|were tasked with|"
                      r"we plan|target (?:was|is|of)|desired state|specifically|ensure that|trying to achieve)\b|"
                      r"^\W*(?:to|ensure)\s+[a-z]", re.I)
#: a finding about the present (the baseline or the problem), not the intent: "Only 22% of charts were ...",
#: "An audit found 27% ...", "Delays have increased since ..."
_FINDING = re.compile(r"\b(?:was|were|had|has|have|found|showed|shows|show|is|are|stayed|remained|averag\w+|"
                      r"baseline|currently|at present|only)\b", re.I)
#: a sentence that carries on the aim before it ("Specifically, we set a target of 95% ...", "... increase this to 75%")
_CONTINUES = re.compile(r"^\W*(?:specifically|in particular|the (?:desired state|target|standard|goal) (?:is|was)|"
                        r"our (?:standard|target) (?:is|was)|we (?:will|aim|want|have set|set)|over the next|this means)\b",
                        re.I)
_ANAPHOR = re.compile(r"\b(?:this|it|them)\s+(?:back\s+)?(?:to|from|by)\b|\b(?:increase|raise|reduce|lower|bring|cut|"
                      r"halve|improve)\s+(?:this|it|them)\b", re.I)


_TARGETISH = re.compile(rf"\b(?:to|by)\s+(?:{_CMP}\s+)?{_NUM}{_UNIT}|\bfrom\s+{_ANYNUM}|{_CMP}\s+{_NUM}", re.I)
_PERCENTISH = re.compile(rf"{_NUM}\s*(?:%|per ?cent|percent)", re.I)


def _score_sentence(s: str) -> int:
    """How much a sentence reads as an aim: intent, a direction, a target, a time frame; a finding scores less."""
    score = 0
    cue = bool(_AIM_CUE.search(s))
    if cue:
        score += 4
    if _DIRECTION.search(s) or _IMPROVE.search(s):
        score += 2
    if _TARGETISH.search(s):
        score += 2
    elif _PERCENTISH.search(s):
        score += 1
    if any(p.search(s) for _, p in _TIME_PATTERNS):
        score += 2
    if _MEASURE_HEAD.search(s):
        score += 1
    if not cue and _FINDING.search(s) and re.search(r"\d", s):
        score -= 3
    return score


def _pick_aim(plain: str) -> tuple[str, str]:
    """(the aim, the sentence before it): the sentence that most reads as an intent, with a sentence that
    carries it on ("Specifically, ..."); the one before holds what "this" or "it" refers to."""
    sents = [s[:1000] for s in sentences(plain[:20_000])[:400]]
    if not sents:
        return "", ""
    i = max(range(len(sents)), key=lambda k: (_score_sentence(sents[k]), -k))
    aim = sents[i]
    before = sents[i - 1] if i else ""
    # "In 2025 our laboratory rejected 1.5% of specimens; we aimed to lower ...": the finding is not the aim
    clauses = [c.strip() for c in aim.split(";") if c.strip()]
    if len(clauses) > 1:
        intent = [c for c in clauses if _AIM_CUE.search(c)]
        findings = [c for c in clauses if c not in intent]
        if intent and findings:
            aim, before = " ".join(intent), findings[-1]
    if i + 1 < len(sents) and (_CONTINUES.search(sents[i + 1]) or aim.rstrip().endswith("?")):
        # a question is a prompt ("What are we trying to accomplish?"): the sentence after it answers it
        aim = f"{aim} {sents[i + 1]}"
    return aim, before


#: a clause the aim rejects: "Our aim is not to cut X from 95 to 60 minutes by June - too ambitious - but simply to
#: improve sepsis care" reads as "Our aim is to improve sepsis care"; "... rather than cutting X by half"
_REJECTED_CLAUSE = re.compile(r"\b(?:is|was|are|were)\s+not\s+to\b.*?\bbut\s+(?:(?:simply|rather|just|only|instead)\s+)?"
                              r"(?=to\b)|\s*,?\s*\b(?:rather than|instead of)\s+[^,.;]*", re.I)


def _drop_rejected(aim: str) -> str:
    """The aim without the clauses it rejects (its numbers and dates are not the aim's)."""
    return _REJECTED_CLAUSE.sub(lambda m: " is " if m.group(0).lower().lstrip().startswith(("is", "was", "are", "were"))
                                else " ", aim).strip()


def analyse_smart_aim(text: str) -> SmartAnalysis:
    """Read an aim and report its SMART parts, their spans, what is missing and misconceptions.

    The aim sentence is the sentence with most aim features; parts missing there (often the
    baseline, "Currently 45% ...") are looked for in the rest of the text. Never raises.
    """
    plain = strip_markdown(text or "")
    aim, before = _pick_aim(plain)
    result = SmartAnalysis(aim_text=aim)
    aim = _drop_rejected(aim)
    if not aim:
        result.missing = ["direction", "measure", "baseline", "target", "time_frame", "population"]
        result.misconceptions.append(Misconception("empty", "No aim was written."))
        return result
    rest = plain[:20_000]

    _find_quantities(aim, rest, result)
    if result.target is None:
        _goal_sentence_target(aim, rest, result)
    _find_direction(aim, result)
    _find_measure(aim, result)
    if before and (result.measure is None or _ANAPHOR.search(aim)):  # "... increase this to 75%"
        _find_measure(before, result, in_aim=False)
    every = _EVERY.search(aim)
    if result.measure is None and every and result.target is not None and result.target.text == every.group(0) \
            and not _SOLUTION.search(every.group(0)):
        # "to screen every child aged 2 to 36 months ...": the share of that group given that care
        result.measure = every.group("care").strip()
        result.spans["measure"] = result.measure
    if result.measure is None and result.baseline is not None:
        for s in sentences(rest):  # "Currently 60% of admissions have a VTE assessment."
            if result.baseline.text in s:
                _find_measure(s, result, in_aim=False)
                break
    named = _NAMED_MEASURE.search(rest)
    named_text = (named.group("m") or named.group("m2")).strip() if named else ""
    if _QUANT.search(named_text):  # "using the proportion of residents ... as the main measure"
        result.measure = named_text
        result.spans["measure"] = result.measure
    _find_time(aim, rest, result)
    _find_setting(aim, rest, result)
    if result.population is None and before:  # the place named in the sentence before the aim
        _find_setting(before, rest, result)
    m = next((m for m in _SOLUTION.finditer(aim) if not preceded_by(aim, m.start(), _SET_ASIDE)), None)
    if m:
        result.solution = m.group(0)
        result.spans["solution"] = m.group(0)

    result.missing = [
        name for name in ("direction", "measure", "baseline", "target", "time_frame", "population")
        if getattr(result, name) is None
    ]
    result.misconceptions = _misconceptions(result, rest)
    # what lesson 3 and m3 teach: a direction, a countable measure, a baseline AND a target, a date or duration,
    # a manageable setting, and a result rather than a solution
    result.is_smart = (result.direction is not None and measure_countable(result) and result.target is not None
                       and result.baseline is not None and time_specific(result.time_frame)
                       and result.population is not None and not result.too_big
                       and not any(m.code == "solution_in_disguise" for m in result.misconceptions))
    return result


#: a measure the text names as such: "using the proportion of residents given X as the main measure", "the primary
#: outcome measure was the median time to antibiotics"
_NAMED_MEASURE = re.compile(
    r"\b(?:using|with|taking)\s+(?P<m>(?:the|a|an)\s+[^.;]{3,150}?)\s+as\s+(?:the|our|its|a)\s+(?:main|primary|principal|"
    r"key|outcome|chief)\s+(?:outcome\s+)?measure\b"
    r"|\b(?:the|our)\s+(?:main|primary|principal|key|chief)\s+(?:outcome\s+)?measure\s+(?:is|was|will be)\s+"
    r"(?P<m2>[^.;]{3,150}?)(?=[.;]|$)", re.I)


# a bare "number of falls" is a count without a denominator or period: not yet countable as a measure
_QUANT = re.compile(r"\b(?:percentages?|proportions?|per ?cent|rates?|times?|median|mean|average|minutes|hours|"
                    r"days|ratio|incidence|prevalence|compliance|adherence|uptake|coverage|length of (?:hospital )?stay|"
                    r"turnaround|how long|how often)\b|%|per\s+(?:1,?000|100|10,?000|100,?000|day|week|"
                    r"month|year)\b|\b(?:daily|weekly|monthly|a day|a week|a month)\b", re.I)


def measure_countable(r: SmartAnalysis) -> bool:
    """Is the measure countable: a percentage of a group, a rate, a count per period or a time (or its units say so)?"""
    if r.measure is None:
        return False
    units = [q.unit for q in (r.baseline, r.target) if q is not None and q.unit
             and getattr(q, "kind", "absolute") == "absolute"]
    if r.baseline is not None and re.search(r"\b(?:a|per|each)\s+(?:day|week|month|year)\b", r.baseline.text, re.I):
        units.append("per period")  # "a mean of 18.6 incidents a month": a count per period
    return bool(_QUANT.search(r.measure)) or any(u == "%" or "per" in u or u in ("minutes", "hours") for u in units)


def time_specific(tf: TimeFrame | None) -> bool:
    """A calendar date or a duration, not only an event ("the end of the rotation")."""
    return tf is not None and (tf.kind in ("date", "duration") or bool(re.search(
        r"\b(?:19|20)\d{2}\b|\d{1,2}/\d|january|february|march|april|may|june|july|august|september|october|"
        r"november|december", tf.text, re.I)))


_OUT_OF = re.compile(rf"(?P<n>{_NUM}|{_WNUM})\s+(?:out\s+)?of\s+(?:the\s+|every\s+)?(?P<d>{_NUM}|{_WNUM})\b(?!\s*(?:weeks?|months?|years?))",
                     re.I)


def _out_of(aim: str, r: SmartAnalysis) -> None:
    """'9 out of 10 patients ... compared with 4 out of 10 now': proportions written as counts."""
    found = [m for m in _OUT_OF.finditer(aim) if "out" in m.group(0).lower()]
    vals = []
    for m in found:
        n, d = _to_number(m.group("n")), _to_number(m.group("d"))
        if n is not None and d:
            vals.append((m, round(100 * n / d, 1)))
    if not vals:
        return
    base = [(m, v) for m, v in vals if re.search(r"(?:from|currently|compared (?:with|to)|baseline|at present)\s*$",
                                                 aim[max(0, m.start() - 30):m.start()], re.I)
            or re.match(r"\s+(?:now|currently|at present|at baseline)\b", aim[m.end():], re.I)]
    targ = [(m, v) for m, v in vals if (m, v) not in base]
    if targ and r.target is None:
        m, v = targ[0]
        r.target = Target(v, "%", m.group(0), kind="absolute")
        r.spans["target"] = m.group(0)
    if base and r.baseline is None:
        m, v = base[0]
        r.baseline = Quantity(v, "%", m.group(0))
        r.spans["baseline"] = m.group(0)


def _find_quantities(aim: str, rest: str, r: SmartAnalysis) -> None:
    _out_of(aim, r)
    # 1. from X to Y
    m = re.search(
        rf"\bfrom\s+(?:a\s+|the\s+|our\s+)?(?:(?:current|baseline|median|mean|average)\s+)*(?:of\s+)?"
        rf"(?:{_CMP}\s+)?(?P<b>{_ANYNUM})(?P<bu>{_UNIT})?(?:\s+\w+){{0,3}}?\s+(?:up |down )?to\s+(?:a\s+"
        rf"(?:median|mean|average|rate)\s+of\s+)?(?P<cmp>{_CMP}\s+)?(?P<t>{_ANYNUM})(?P<tu>{_UNIT})?",
        aim, re.I)
    if m:
        b, t = _to_number(m.group("b")), _to_number(m.group("t"))
        bu, tu = _unit(m.group("bu")), _unit(m.group("tu"))
        # "cut the time from referral to appointment from 14 weeks to 6 weeks": weeks are the measure's units
        time_measure = re.search(r"\b(?:time|times|wait\w*|delay\w*|interval|length of (?:hospital )?stay|turnaround)\b",
                                 aim[:m.start()], re.I)
        if b is not None and t is not None and (time_measure or not _is_time_number(aim, m.end("t"))):
            r.baseline = Quantity(b, bu or tu, m.group(0))
            r.target = Target(t, tu or bu, m.group(0), kind="absolute",
                              comparator=(m.group("cmp") or "").strip() or None)
            r.spans["baseline"] = r.spans["target"] = m.group(0)
    if r.target is None:
        _find_target(aim, r)
    if r.baseline is None:
        for source in (aim, rest):
            for p in _BASELINE_PATTERNS:
                for bm in p.finditer(source):
                    val = _to_number(bm.group("b"))
                    unit = _unit(bm.group("bu"))
                    if val is None or _is_time_number(source, bm.end("b")):
                        continue
                    if r.target is not None and bm.group(0) in r.target.text and source is aim:
                        continue
                    if unit is None and not re.search(r"(?:baseline|currently|at present)", bm.group(0), re.I):
                        continue
                    r.baseline = Quantity(val, unit, bm.group(0).strip())
                    r.spans["baseline"] = bm.group(0).strip()
                    break
                if r.baseline:
                    break
            if r.baseline:
                break
    if r.baseline is None and len(rest) <= 2000:
        _finding_baseline(aim, rest, r)


#: a sentence that sets the goal apart from the aim: "Giving analgesia within 30 minutes of triage was taken as an
#: achievable goal", "Our target is 95%"
_GOAL_SENTENCE = re.compile(r"\b(?:was|were|is|are|has been)\s+(?:taken|set|chosen|agreed|adopted)\s+as\s+(?:an?|the|our)\s+"
                            r"(?:[\w-]+\s+)?(?:goal|target)\b|\b(?:our|the)\s+(?:goal|target)\s+(?:is|was|will be)\b", re.I)


def _goal_sentence_target(aim: str, rest: str, r: SmartAnalysis) -> None:
    """A target set in its own sentence next to the aim: a level (95%) or a time to meet (within 30 minutes)."""
    if len(rest) > 2000:
        return
    for sent in sentences(rest):
        if sent in aim or not _GOAL_SENTENCE.search(sent):
            continue
        _find_target(sent, r)
        if r.target is None:
            m = re.search(rf"\bwithin\s+(?P<t>{_ANYNUM})\s+(?P<tu>minutes?|hours?|days?)\b[^.;,]*", sent, re.I)
            if m:
                r.target = Target(float(_to_number(m.group("t")) or 0), _unit(m.group("tu")), m.group(0).strip(),
                                  comparator="within")
                r.spans["target"] = r.target.text
        return


#: where the measure is now, stated as a finding in another sentence: "An audit found 27% ...", "... had an
#: unplanned extubation rate of 1.41 per 100 ventilator days", "were contaminated 4.5% of the time"
_FINDING_BASELINE = [
    re.compile(rf"\b(?:rate|mean|median|average)\s+(?:[\w-]+\s+){{0,2}}?(?:of|was|is)\s+(?:only\s+|about\s+|around\s+)?"
               rf"(?P<b>{_NUM})(?P<bu>{_UNIT}|\s+[a-z]+\s+(?:a|per|each)\s+(?:day|week|month|year))?", re.I),
    re.compile(rf"\b(?:found|showed|shows|show|was|were|is|are|had|has|stayed|remained|averag\w+)\s+(?:that\s+)?"
               rf"(?:[\w:'-]+\s+){{0,4}}?(?P<b>{_NUM})(?P<bu>{_UNIT}|\s+[a-z]+\s+(?:a|per|each)\s+(?:day|week|month|"
               rf"year))", re.I),
    re.compile(rf"^\W*(?:only\s+)?(?P<b>{_NUM})(?P<bu>{_UNIT})\s+of\b", re.I),
    # a share of a group in a sentence of findings: "On our wards, 1.1% of prescribed doses were missed",
    # "our laboratory rejected 1.5% of specimens"
    re.compile(rf"(?<![\d.])(?P<b>{_NUM})(?P<bu>\s?%|\s?per ?cent\b)\s+of\b", re.I),
]


def _finding_baseline(aim: str, rest: str, r: SmartAnalysis) -> None:
    """A baseline stated as a finding in a sentence other than the aim (not a date, not the target)."""
    # a clause set off by a semicolon from the aim's own clause is a finding ("X rejected 1.5% of specimens; we aimed")
    clauses = [(c, len(x.split(";")) > 1 and c not in aim and _AIM_CUE.search(x) is not None)
               for x in sentences(rest) for c in x.split(";")]
    for sent, beside_aim in clauses:
        if sent in aim:
            continue
        none = re.search(rf"\bnone of (?:the|our)\s+{_ANYNUM}\b|\b(?:did not|didn't|does not|doesn't)\s+happen\s+at\s+all\b|"
                         r"\b(?:was|were)\s+(?:not\s+(?:done|offered|recorded|given)\s+at\s+all|never\s+(?:done|offered|"
                         r"recorded|given))\b", sent, re.I)
        if none:  # "none of the 140 people had ...", "screening did not happen at all": a baseline of zero
            r.baseline = Quantity(0.0, "%", none.group(0))
            r.spans["baseline"] = none.group(0)
            return
        if not (beside_aim or _FINDING.search(sent)):
            continue
        for p in _FINDING_BASELINE:
            m = p.search(sent)
            if m and _to_number(m.group("b")) is not None and not _is_time_number(sent, m.end("b")):
                r.baseline = Quantity(_to_number(m.group("b")), _unit(m.group("bu")), m.group(0).strip())  # type: ignore[arg-type]
                r.spans["baseline"] = m.group(0).strip()
                return


def _is_time_number(s: str, end: int) -> bool:
    """A number followed by weeks/months/years is a time frame, not a target."""
    return bool(re.match(r"\s*(?:-|\s)?(?:weeks?|months?|years?)\b", s[end:], re.I)) or bool(
        re.match(r"[/.-]\d{1,2}[/.-]\d{2,4}", s[end:]))


#: the words before a number that make it a finding, not a target: "..., which was complete for", "where the mean
#: rate at baseline was"
_FINDING_CLAUSE = re.compile(r"(?:\b(?:which|that|where)\b[^,;()]*\b(?:was|were|is|are|stood|averaged)\b|\bbaseline\b)"
                             r"[^,;()]*$", re.I)


#: a verb of care acting on everyone in a group: "to screen every child aged 2 to 36 months attending ..."
_EVERY = re.compile(r"\bto\s+(?P<care>(?!(?:make|ensure|get|see|help|improve)\b)[a-z]+\s+(?:every|all)\s+(?:eligible\s+)?"
                    + _GROUP.replace("(?:", "(?:child|patient|adult|mother|woman|baby|infant|resident|person|", 1)
                    + r"\b(?:[^,.;]{0,80}?(?=[,.;]|$))?)", re.I)


def _find_target(aim: str, r: SmartAnalysis) -> None:
    patterns: list[tuple[str, str]] = [
        # "to (at least) 95%", "to under 60 minutes", "to a median of 45 minutes"
        ("absolute", rf"\b(?:up |down )?to\s+(?:a\s+(?:median|mean|average|rate|level)\s+of\s+)?(?P<cmp>{_CMP}\s+)?"
                     rf"(?P<t>{_NUM})(?P<tu>{_UNIT})"),
        # "by 20 percentage points", "by 15 minutes"
        ("difference", rf"\bby\s+(?P<cmp>(?:at least|over|more than)\s+)?(?P<t>{_ANYNUM})"
                       rf"(?P<tu>\s?percentage points?\b|\s?pp\b|\s?(?:minutes?|mins?|hours?|hrs?)\b)"),
        # "by 20%"
        ("relative", rf"\bby\s+(?P<cmp>(?:at least|over|more than|up to)\s+)?(?P<t>{_ANYNUM})"
                     rf"(?P<tu>\s?%|\s?per ?cent\b|\s?percent\b)"),
        # "(at least|over|under) 95%", "95% or more", "target of 95%", "achieve 95%"
        ("absolute", rf"(?P<cmp>{_CMP})\s+(?P<t>{_NUM})(?P<tu>{_UNIT})"),
        ("absolute", rf"(?P<t>{_NUM})(?P<tu>{_UNIT})\s+or\s+(?P<cmp>more|above|higher|greater|less|fewer|below|"
                     rf"lower|over|under)\b"),
        ("absolute", rf"\b(?:target|goal|aim)\s+(?:of|is|=|:)\s+(?P<cmp>{_CMP}\s+)?(?P<t>{_NUM})(?P<tu>{_UNIT})?"),
        ("absolute", rf"\b(?:achiev\w*|reach\w*|attain\w*|hit)\s+(?:a\s+\w+\s+of\s+)?(?P<cmp>{_CMP}\s+)?"
                     rf"(?P<t>{_NUM})(?P<tu>{_UNIT})?"),
    ]
    for kind, pat in patterns:
        m = re.search(pat, aim, re.I)
        if m and aim.rfind("(", 0, m.start()) > aim.rfind(")", 0, m.start()) and not re.search(
                r"(?i)\b(?:target|goal|aim)\b", aim[aim.rfind("(", 0, m.start()):m.start()]):
            m = None  # inside brackets a number defines the measure ("hypothermia (temperature below 36°C)")
        if m and not _is_time_number(aim, m.end("t")):
            val = _to_number(m.group("t"))
            if val is None:
                continue
            r.target = Target(val, _unit(m.group("tu")), m.group(0).strip(), kind=kind,
                              comparator=((m.groupdict().get("cmp") or "").strip() or None))
            r.spans["target"] = m.group(0).strip()
            return
    # time taken off: "take ten minutes off the time to CT", "cut 15 minutes from the wait"
    m = re.search(rf"\b(?:tak\w*|cut\w*|shav\w*)\s+(?P<t>{_ANYNUM})\s+(?P<tu>minutes?|mins?|hours?|days?)\s+(?:off|from)\b",
                  aim, re.I)
    if m:
        r.target = Target(float(_to_number(m.group("t")) or 0), _unit(m.group("tu")), m.group(0), kind="difference")
        r.spans["target"] = m.group(0)
        return
    # an N-point change: "a 15-percentage-point rise", "a 10 point increase"
    m = re.search(rf"\b(?P<t>{_ANYNUM})[- ](?:percentage[- ])?points?\s+(?:rise|increase|improvement|fall|reduction|"
                  r"decrease|drop)\b", aim, re.I)
    if m:
        r.target = Target(float(_to_number(m.group("t")) or 0), "percentage points", m.group(0), kind="difference")
        r.spans["target"] = m.group(0)
        return
    # zero is a level to reach: "down to zero", "to nil", "zero harm events" ("eliminate" names no number, so it
    # gives a direction but not a target)
    m = re.search(r"\b(?:(?:down\s+)?to\s+(?:zero|nil|none)|zero\s+(?:[\w-]+\s+){0,2}?"
                  r"(?:incidents?|events?|cases?|errors?|falls?|infections?|harm|breaches))\b", aim, re.I)
    if m:
        r.target = Target(0.0, None, m.group(0), kind="absolute")
        r.spans["target"] = m.group(0)
        return
    # everyone in the group is a level of 100% when a verb of care acts on them: "to screen every child aged ...",
    # "to offer every patient on the caseload ..." (not a wish, "to make sure every patient gets ...", nor a setting,
    # "for all patients on Ward 3")
    m = _EVERY.search(aim)
    if m and not _SOLUTION.search(m.group(0)):  # "to give all patients a leaflet" is a change, not a level
        r.target = Target(100.0, "%", m.group(0), kind="absolute")
        r.spans["target"] = m.group(0)
        return
    # fractions and multiples: "by a third", "by half", "halve", "double"
    frac = "|".join(sorted((re.escape(k) for k in _FRACTIONS), key=len, reverse=True))
    m = re.search(rf"\bby\s+(?:at least\s+)?(?P<f>{frac})\b", aim, re.I)
    if m:
        r.target = Target(round(_FRACTIONS[m.group("f").lower()], 1), "%", m.group(0), kind="relative")
        r.spans["target"] = m.group(0)
        return
    m = re.search(r"\b(?P<v>halv\w*|doubl\w*|tripl\w*)\b", aim, re.I)
    if m:
        v = m.group("v").lower()
        val = 50.0 if v.startswith("halv") else (100.0 if v.startswith("doubl") else 200.0)
        r.target = Target(val, "%", m.group(0), kind="relative")
        r.spans["target"] = m.group(0)
        return
    # a lone percentage or rate in the aim sentence ("95% of admissions assessed by March")
    m = next((m for m in re.finditer(rf"(?P<t>{_NUM})(?P<tu>\s?%|\s?per ?cent\b|\s?percent\b|\s*{_PER})", aim, re.I)
              if not _FINDING_CLAUSE.search(aim[max(0, m.start() - 80):m.start()])), None)
    if m:
        # "a 25% fall in incidents" is a change relative to where it is now, not a level to reach
        kind = "relative" if re.match(r"\s+(?:fall|reduction|decrease|drop|cut|increase|rise|improvement)\b",
                                      aim[m.end():], re.I) else "absolute"
        r.target = Target(float(m.group("t").replace(",", "")), _unit(m.group("tu")), m.group(0).strip(), kind=kind)
        r.spans["target"] = m.group(0).strip()


def _not_intent(aim: str, m: re.Match[str], r: SmartAnalysis) -> bool:
    """Is this direction word no verb of the intended change (a comparator, or a change that describes the problem)?"""
    word = m.group(0)
    # "less than"/"more than" as comparators, and "fewer than", are not verbs of change
    if re.fullmatch(r"less|more|fewer", word, re.I) and re.match(r"\s+than\b", aim[m.end():], re.I):
        return True
    if re.fullmatch(r"(?i)prevent\w*", word) and r.target is None:
        return True
    # "delays have increased", "rates were falling": the problem, not the intent
    return bool(re.search(r"(?i)\b(?:has|have|had|was|were|is|are)(?:\s+been)?\s+(?:\w+\s+)?$",
                          aim[max(0, m.start() - 25):m.start()]) and re.search(r"(?i)(?:ed|ing)$", word))


def _set_direction(m: re.Match[str], r: SmartAnalysis) -> None:
    r.direction = "increase" if m.group("inc") else "decrease" if m.group("dec") else "maintain"
    r.spans["direction"] = m.group(0)


def _find_direction(aim: str, r: SmartAnalysis) -> None:
    for m in _DIRECTION.finditer(aim):
        word = m.group(0)
        if _not_intent(aim, m, r):
            continue
        r.direction = "increase" if m.group("inc") else "decrease" if m.group("dec") else "maintain"
        r.spans["direction"] = word
        return
    # no verb: numbers (from 95 to 60) or comparators (under / at least) can still show direction
    if r.baseline is not None and r.target is not None and r.target.kind == "absolute" \
            and r.baseline.value != r.target.value:
        r.direction = "increase" if r.target.value > r.baseline.value else "decrease"
        r.spans["direction"] = r.target.text


#: a noun phrase the verb of change governs names a measure when its head is a plural noun, something counted
#: ("eliminate wrong-site blocks", "reduce missed appointments"), unless the head is a topic ("improve outcomes")
_COUNTED_HEAD = re.compile(r"^(?:[\w'-]+\s+){0,4}(?!" + "(?:outcomes|services|standards|processes|practices|experiences|"
                           r"needs|skills|systems|patients|staff|people)\b)[a-z][\w-]*[a-z]s$", re.I)
#: the head of a topic, not a thing counted: "improve patient care", "improve hospital feeding policies"
_TOPIC_HEAD = re.compile(r"\b(?:care|quality|management|experience|safety|practice|culture|awareness|knowledge|"
                         r"confidence|communication|services?|outcomes?|process(?:es)?|standards?|efficiency|flow|"
                         r"wellbeing|policies|policy|patients|staff|people|team|teams)$", re.I)
#: a noun phrase ends at its first preposition: the head of "unnecessary interventions for infants" is "interventions"
_NP_END = re.compile(r"\s+(?:for|of|with|in|on|at|among|amongst|after|before|under|over|to|from|by|within|during|"
                     r"across|through|who|which|that|and|or)\s", re.I)


def _noun_phrase_core(c: str) -> str:
    """The noun phrase up to its first preposition, conjunction or relative pronoun."""
    return _NP_END.split(f"{c} ", maxsplit=1)[0].strip()


def _find_measure(aim: str, r: SmartAnalysis, in_aim: bool = True) -> None:
    """The measure in `aim`; when `in_aim`, the verb that governs it also gives the direction."""
    candidates: list[tuple[str, bool]] = []
    verb = re.compile(rf"\b(?P<v>{_INC}|{_DEC}|{_MAINT}|improv\w*)\b\s+(?P<m>.+?){_STOP}", re.I)
    # every verb of change with the phrase it governs, overlapping: in "improve patient care by cutting unnecessary
    # investigations" both "improve" and "cutting" govern a phrase
    governing: dict[str, int] = {}
    pos = 0
    while (m := verb.search(aim, pos)) is not None:
        if not re.match(r"(?i)(?:less|more|fewer)$", m.group("v")) or not re.match(r"(?i)than\b", m.group("m")):
            candidates.append((m.group("m"), True))  # "less than 2 hours" is a comparator, not a verb of change
        governing.setdefault(m.group("m"), m.start("v"))
        pos = m.start("m")
    for m in re.finditer(rf"(?:%|per ?cent|percent)\s+of\s+(?P<m>[^.;]+?){_STOP}", aim, re.I):
        candidates.append(("% of " + m.group("m"), False))
    for m in re.finditer(r"\b(?:the\s+)?(?:percentage|proportion|number|rate|median|mean|average)\s+"
                         r"(?:time\s+)?(?:of|to|from|for)\s+[^,.;]+?" + _STOP, aim, re.I):
        candidates.append((m.group(0), False))
    for m in re.finditer(r"(?:%|per ?cent|percent|\d+\s+out\s+of\s+\d+)\s+(?:of\s+)?(?P<m>(?:patients|admissions|"
                         r"discharges|people|staff)\b[^.;]+?)" + _STOP, aim, re.I):
        candidates.append(("proportion of " + m.group("m"), False))
    for m in re.finditer(r"\b(?:[\w-]+\s+){1,3}(?:timings?|timeliness|compliance|completion|uptake|accuracy)\b", aim,
                         re.I):
        candidates.append((m.group(0), False))
    # an interval between two events: "the time from a CT scan being requested to the scan being done"
    for m in re.finditer(r"\bthe\s+(?:time|interval|delay)\s+(?:from|between|to|taken)\s+[^,.;]+?" + _STOP, aim, re.I):
        candidates.append((m.group(0), False))
    # a noun phrase headed by a measure noun: "its rejection rate", "the median door-to-needle time"
    for m in re.finditer(r"\b(?:its|their|the|our)\s+(?:" + _NOT_PREP + r"[\w-]+\s+){0,3}?(?:rates?|ratios?|scores?|times?|"
                         r"prevalence|incidence|coverage|turnaround|waiting times?|intervals?)\b", aim, re.I):
        candidates.append((m.group(0), False))
    # a quantity asked as a question: "how long children ... wait for analgesia", "how often patients miss doses"
    # a level named with its goal: "to reach the national 90% influenza vaccination goal" (the measure is vaccination)
    for m in re.finditer(rf"{_NUM}\s?%\s+(?P<m>(?:[\w-]+\s+){{0,3}}?[\w-]+)\s+(?:goal|target|standard|benchmark)\b",
                         aim, re.I):
        candidates.append(("% " + m.group("m"), False))
    quantities = {m.group(0) for m in re.finditer(rf"\bhow (?:long|often|quickly|soon|many|much|reliably)\s+[^,.;]+?{_STOP}",
                                                 aim, re.I)}
    candidates += [(q, False) for q in sorted(quantities)]
    has_number = r.target is not None or r.baseline is not None
    for raw, from_verb in candidates:
        c = re.sub(r"^(?:the|our|my)\s+", "", raw.strip(), flags=re.I)
        c = re.sub(r"^(?:by|of|in)\s+", "", c, flags=re.I)
        if not c or len(c) > 200 or re.fullmatch(r"[\d.,%\s]+", c):
            continue
        # a bare topic after the verb ("reduce falls") is not yet a measure (rubric: level 0 is "only a topic");
        # a noun phrase the verb governs is one when its head is counted, or when the aim puts a number on it
        core = _noun_phrase_core(c)
        counted = bool(_COUNTED_HEAD.search(core)) or (has_number and not _TOPIC_HEAD.search(core))
        named = from_verb and (_OBSERVED.search(c) or counted) and len(re.findall(r"[A-Za-z]{3,}", c)) >= 2
        if _MEASURE_HEAD.search(c) or (_EVENT.search(c) and has_number) or named or c in quantities:
            unit = r.target.unit if r.target else None
            if unit and " per " in f" {unit} " and " per " not in f" {c} ":
                c = f"{c} ({unit})"
            r.measure = c
            r.spans["measure"] = c
            if from_verb and in_aim:  # the direction is that of the verb governing the measure ("lower leg wound care and cut X")
                start = governing.get(raw)
                dm = _DIRECTION.match(aim, start) if start is not None else None
                if dm is not None and not _not_intent(aim, dm, r):
                    _set_direction(dm, r)
            return


#: a sentence about the baseline period or when the work started names no deadline ("first tested on 9 January")
_NOT_DEADLINE = re.compile(r"\b(?:baseline|first (?:tested|introduced|used)|started|began|launched|went live|since|"
                           r"(?:an?|the|our) audit (?:of|in|from|between)|showed|found|"
                           r"before the project|previous|last year|pre-intervention)\b", re.I)


#: the rest of a clause that says the date is when the work started
_STARTED = re.compile(r"[^.;]{0,80}?\b(?:launched|started|began|commenced|introduced|went live|was set up|were set up)\b",
                      re.I)


def _find_time(aim: str, rest: str, r: SmartAnalysis) -> None:
    if len(rest) <= 2000:
        rest = " ".join(x for x in sentences(rest) if x not in aim and x not in r.aim_text and not _NOT_DEADLINE.search(x))
    for source in (aim, rest):
        # a date or duration beats an event ("by the end of my rotation in August 2027" -> August 2027)
        rank = {"date": 0, "duration": 1, "event": 2}
        best: tuple[int, int, str, str] | None = None
        for kind, p in _TIME_PATTERNS:
            for m in p.finditer(source):
                if kind == "date" and m.group(0).lower().startswith(("on ", "for ")) and not re.search(
                        r"\d", m.group(0)):
                    continue  # "on March" is too weak
                if kind == "date" and re.fullmatch(r"(?i)(?:by|before|until|on|for)\s+may", m.group(0).strip()):
                    continue  # the verb "may"
                if re.match(r"(?i)(?:in|on|during)\b", m.group(0)) and _STARTED.match(source[m.end():]):
                    continue  # "In January 2026 the office launched ...": when the work started, not a deadline
                key = (rank[kind], m.start())
                if best is None or key < best[:2]:
                    best = (rank[kind], m.start(), m.group(0).strip(), kind)
        if best:
            r.time_frame = TimeFrame(best[2], best[3])
            r.spans["time_frame"] = best[2]
            return
        if len(rest) > 2000:  # long answers: only the aim sentence counts
            return


#: one ward, unit, clinic, bay or theatre named in the aim (not "all wards", "every department")
_SMALL_PLACE = re.compile(r"(?<!all )(?<!every )(?<!each )\b(?:ward|unit|clinic|bay|theatre|department|ED|A&E|AMU|SAU|"
                          r"MAU|ICU|HDU|CCU|NICU|PICU|SCBU)\b(?!s)", re.I)


def _find_setting(aim: str, rest: str, r: SmartAnalysis) -> None:
    big = next((m for m in _TOO_BIG.finditer(aim) if not preceded_by(aim, m.start(), _LATER_OR_NOT)), None)
    if big and any(_SMALL_PLACE.search(m.group(0)) and (m.end() <= big.start() or m.start() >= big.end())
                   and not m.group(0).lower().startswith("to ")  # "to sustain mean theatre utilisation" is no place
                   and not preceded_by(aim, m.start(), _LATER_OR_NOT) for m in _SETTING.finditer(aim)):
        big = None  # "on Ward 7 at our district general hospital": the ward is the setting, the hospital its address
    if big:
        r.too_big = True
        r.population = big.group(0)
        r.spans["population"] = big.group(0)
        return
    found = [m for m in _SETTING.finditer(aim) if not preceded_by(aim, m.start(), _LATER_OR_NOT)]
    # a ward or unit is the clearest setting; a patient group inside the measure ("% of patients
    # with sepsis") is used only when no place is named
    places = [m for m in found if re.search(rf"(?i)\b{_PLACE}\b", m.group(0))
              and not re.match(r"(?i)(?:for|in|among|amongst|of)\s+(?:all\s+)?\w*\s*(?:patients|inpatients|admissions|"
                               r"adults|people)", m.group(0))]
    m = (places or found or [None])[0]
    if m:
        r.population = m.group(0).strip()
        r.spans["population"] = r.population


_MESSAGES = {
    "no_direction": "The aim does not say which way the measure should move: say increase, reduce or "
                    "maintain (\"improve\" alone is not a direction).",
    "no_measure": "The aim names no measurable quantity: say exactly what will be counted or timed "
                  "(e.g. the percentage of eligible patients who receive X).",
    "no_number": "The aim has no numeric target: say how much change you intend (how good, by how much).",
    "no_date": "The aim has no time frame: give a date or duration (e.g. by 31 March 2027, within 12 weeks).",
    "no_baseline": "The target has no baseline: state where the measure is now so the target can be judged "
                   "and progress shown.",
    "solution_in_disguise": "This reads as a solution in disguise: it names a change to make rather than the "
                            "result you want. State the improvement in the measure; the change idea is one way "
                            "to get there.",
    "too_big": "The scope looks too big for one project in a rotation (a whole trust or hospital): start "
               "with one ward or one patient group and spread later.",
    "no_setting": "The aim does not say where or for whom (which ward, unit or patient group).",
    "audit": "This reads like a clinical audit (measuring against a standard) rather than an improvement aim "
             "(a change in a measure over time).",
}


#: a measure that counts the work done rather than a result for patients (lesson 3: forms printed)
_ACTIVITY = re.compile(r"\b(?:stickers|posters|leaflets|forms|proformas|emails|letters|badges|cards|sessions|bags)\s+"
                       r"(?:\w+\s+){0,3}?(?:printed|produced|made|sent|delivered|held|displayed|distributed|handed out|"
                       r"put up|ordered|bought)\b|\b(?:staff|nurses|doctors|clinicians|HCAs|FY1s)\s+(?:\w+\s+){0,2}?trained\b|"
                       r"\b(?:teaching|training|education) sessions\b", re.I)
#: an aim whose main verb is a change to make: "The target was to make calls to 80% ...", "To introduce ... and train ..."
_LEADS_WITH_CHANGE = re.compile(
    r"(?:^\W*(?:aim\s*:\s*)?|\b(?:aims?|aimed|goal|target|objective|purpose)"
    r"(?:\s+of\s+(?:this|the|our)\s+(?:[\w-]+\s+){0,3}?[\w-]+)?\s+(?:is|was|will be)?\s*|\bwe will\s+|\bwe aim\s+|"
    r"\bI will\s+)(?:to\s+)?(?P<change>(?!mak\w* (?:sure|certain)\b)(?:introduc|implement|train|teach|educat|deliver|provid|"
    r"creat|develop|launch|roll\w* out|install|put up|mak|run|hold|set up|design|writ|giv|distribut|refin|evaluat|"
    # "to have the triage nurse screen every adult": a task given to someone, not a result
    r"ha(?:ve|ving) (?:the|our|a|an|all|every) [\w-]+)\w*"
    r"(?:\s+[\w-]+){0,4})", re.I)


def _misconceptions(r: SmartAnalysis, rest: str) -> list[Misconception]:
    out: list[Misconception] = []
    numeric = r.target is not None
    lead = _LEADS_WITH_CHANGE.search(r.aim_text)
    activity = _ACTIVITY.search(r.measure or "")
    if activity and not r.solution:
        r.solution = activity.group(0)
        r.spans["solution"] = r.solution
    if (r.solution and (r.measure is None or not numeric)) or (lead and r.direction is None) or activity:
        # numbers do not make a change into a result: "introduce a grab bag and train 100% of nurses" counts
        # the change being made, not what gets better for patients (lesson 3, "a solution in disguise")
        if lead and not r.solution:
            r.solution = lead.group("change")
            r.spans["solution"] = r.solution
        out.append(Misconception("solution_in_disguise", _MESSAGES["solution_in_disguise"]))
    if r.direction is None:
        out.append(Misconception("no_direction", _MESSAGES["no_direction"]))
    if r.measure is None:
        out.append(Misconception("no_measure", _MESSAGES["no_measure"]))
    if not numeric:
        out.append(Misconception("no_number", _MESSAGES["no_number"]))
    elif r.baseline is None:
        out.append(Misconception("no_baseline", _MESSAGES["no_baseline"]))
    if r.time_frame is None:
        msg = _MESSAGES["no_date"]
        vague = _VAGUE_TIME.search(r.aim_text)
        if vague:
            msg += f' ("{vague.group(0)}" is not a time frame.)'
        out.append(Misconception("no_date", msg))
    if r.too_big:
        out.append(Misconception("too_big", _MESSAGES["too_big"]))
    elif r.population is None:
        out.append(Misconception("no_setting", _MESSAGES["no_setting"]))
    audit = any(not preceded_by(r.aim_text, m.start(), _SET_ASIDE) for m in re.finditer(r"\baudit\b", r.aim_text, re.I))
    if audit and (r.direction is None or not numeric):
        out.append(Misconception("audit", _MESSAGES["audit"]))
    return out
