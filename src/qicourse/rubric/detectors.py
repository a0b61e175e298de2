"""Named detectors: the evidence a rubric level can ask for, by name, in YAML.

A detector reads the answer (or one section of a report) and the facts computed from the
learner's notebook, and says whether it found its evidence, quoting the words it found.
Rubric keyword groups (`kw.<name>`) are detectors too, defined in the rubric file itself; the
ones here need more than a keyword list (the SMART analyser, chart facts, misreadings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .smart import SmartAnalysis, analyse_smart_aim, measure_countable, time_specific
from .text import dismissed, first_accepted, quote, sentence_bounds, sentences, word_count


@dataclass
class Hit:
    fired: bool
    spans: list[str] = field(default_factory=list)
    """quoted words from the answer that show the evidence"""
    note: str = ""
    """a misconception or caution to pass on in feedback"""
    dismissed: bool = False
    """the evidence was there but the text negates, dismisses or contradicts it (feedback must not say it is met)"""


@dataclass
class Context:
    """What detectors read: the text for the criterion (a section or the whole answer) and facts."""

    text: str
    facts: dict
    keyword_groups: dict
    _smart: SmartAnalysis | None = None
    whole: str = ""
    """the whole answer, for evidence that may sit in another section (which chart was used)"""

    @property
    def smart(self) -> SmartAnalysis:
        if self._smart is None:
            self._smart = analyse_smart_aim(self.text)
        return self._smart


@dataclass(frozen=True)
class Detector:
    fn: Callable[[Context], Hit]
    hint: str
    """what the learner could write to make this detector fire (feedback)"""


DETECTORS: dict[str, Detector] = {}


def detector(name: str, hint: str) -> Callable[[Callable[[Context], Hit]], Callable[[Context], Hit]]:
    def wrap(fn: Callable[[Context], Hit]) -> Callable[[Context], Hit]:
        DETECTORS[name] = Detector(fn, hint)
        return fn
    return wrap


def run_detector(name: str, ctx: Context) -> Hit:
    if name.startswith("kw."):
        g = ctx.keyword_groups[name[3:]]
        return keyword_hit(ctx.text, g.patterns, negatable=g.negatable, unless=g.unless)
    return DETECTORS[name].fn(ctx)


def hint_for(name: str, keyword_groups: dict) -> str:
    if name.startswith("kw."):
        g = keyword_groups.get(name[3:])
        return g.hint if g else ""
    d = DETECTORS.get(name)
    return d.hint if d else ""


_COMPILED: dict[tuple[str, ...], re.Pattern[str]] = {}


def keyword_hit(text: str, patterns: tuple[str, ...], limit: int = 6, negatable: bool = False,
                unless: str | None = None) -> Hit:
    """Find any of the patterns (case-insensitive, at word boundaries); quote up to `limit` distinct spans.

    With `negatable`, a mention negated or dismissed in its clause is passed over ("no balancing measure was
    needed", "regression to the mean cannot explain this"); with `unless`, so is a mention in a sentence matching
    that pattern. The passed-over mentions are quoted in the hit's note so feedback can say what was set aside.
    """
    rx = _COMPILED.get(patterns)
    if rx is None:
        rx = re.compile(r"(?<![\w])(?:" + "|".join(f"(?:{p})" for p in patterns) + r")(?![\w])", re.I)
        _COMPILED[patterns] = rx
    spans: list[str] = []
    seen: set[str] = set()
    sentences_seen: set[int] = set()
    set_aside: list[str] = []
    unless_rx = re.compile(unless, re.I) if unless else None
    for tries, m in enumerate(rx.finditer(text)):
        if tries >= 200:  # hostile text: enough is enough
            break
        key = m.group(0).lower()
        if key in seen:
            continue
        if negatable and dismissed(text, m.start(), m.end()):
            set_aside.append(quote(text, m.start(), m.end()))
            continue
        if unless_rx is not None:
            left, right = sentence_bounds(text, m.start(), m.end())
            if unless_rx.search(text[left:right].strip()):
                continue
        seen.add(key)
        left, _ = sentence_bounds(text, m.start(), m.end())
        if left in sentences_seen:  # one quote per sentence; distinct matches still count (for `counts`)
            spans.append("")
        else:
            sentences_seen.add(left)
            spans.append(quote(text, m.start(), m.end()))
        if len(spans) >= limit:
            break
    note = ""
    if set_aside and not spans:
        note = f'Not counted, because the text negates or dismisses it: "{set_aside[0]}"'
    return Hit(bool(spans), spans, note=note, dismissed=bool(set_aside) and not spans)


# ---------------------------------------------------------------------------------------------
# SMART aim
# ---------------------------------------------------------------------------------------------
def _smart_field(name: str, ctx: Context) -> Hit:
    span = ctx.smart.spans.get(name)
    return Hit(span is not None, [span] if span else [])


@detector("smart.direction", "Say which way the measure should move (increase, reduce or maintain).")
def _direction(ctx: Context) -> Hit:
    return _smart_field("direction", ctx)


@detector("smart.measure", "Name the measure: exactly what will be counted or timed.")
def _measure(ctx: Context) -> Hit:
    return _smart_field("measure", ctx)


@detector("smart.measure_specific",
          "Make the measure countable: a percentage of a defined group of patients, a rate per 1,000 bed days, "
          "or a time in minutes.")
def _measure_specific(ctx: Context) -> Hit:
    s = ctx.smart
    ok = measure_countable(s)
    return Hit(ok, [s.measure] if ok and s.measure else [])


@detector("smart.target", "Give a numeric target (how much, e.g. to 90%, or by a third).")
def _target(ctx: Context) -> Hit:
    return _smart_field("target", ctx)


@detector("smart.baseline", "State the baseline: where the measure is now (e.g. from 45%).")
def _baseline(ctx: Context) -> Hit:
    return _smart_field("baseline", ctx)


@detector("smart.time_frame", "Give a time frame: a date or a duration (by 31 March 2027, within 12 weeks).")
def _time(ctx: Context) -> Hit:
    return _smart_field("time_frame", ctx)


@detector("smart.time_specific", "Give a calendar date or a duration rather than an event such as "
                                 "'the end of the rotation'.")
def _time_specific(ctx: Context) -> Hit:
    tf = ctx.smart.time_frame
    ok = time_specific(tf)
    return Hit(ok, [tf.text] if ok and tf else [])


@detector("smart.setting", "Say where and for whom: the ward, unit or patient group.")
def _setting(ctx: Context) -> Hit:
    return _smart_field("population", ctx)


@detector("smart.manageable_scope", "Keep the scope to one ward, unit or patient group you can reach in the time.")
def _manageable(ctx: Context) -> Hit:
    s = ctx.smart
    ok = s.population is not None and not s.too_big
    return Hit(ok, [s.population] if ok and s.population else [])


@detector("smart.too_big", "Narrow the scope to one ward or patient group.")
def _too_big(ctx: Context) -> Hit:
    s = ctx.smart
    return Hit(s.too_big, [s.population] if s.too_big and s.population else [],
               note="The scope looks too big for one project in a rotation; start with one ward or patient group."
               if s.too_big else "")


@detector("smart.solution_in_disguise", "State the result you want in the measure, not the change you will make.")
def _solution(ctx: Context) -> Hit:
    s = ctx.smart
    fired = any(m.code == "solution_in_disguise" for m in s.misconceptions)
    return Hit(fired, [s.solution] if fired and s.solution else [],
               note="This is a solution in disguise: it names a change to introduce rather than the improvement "
                    "wanted." if fired else "")


@detector("smart.states_result", "Say what will be better (the result you want), not only what you will do.")
def _states_result(ctx: Context) -> Hit:
    s = ctx.smart
    spans = [v for k, v in s.spans.items() if k in ("direction", "measure")]
    if not spans:
        m = re.search(r"\bimprov\w*\b|\bbetter\b|\bsafer\b|\bquicker\b|\bfaster\b|\b(?:more|less) \w+|"
                      r"\befficien\w*|\btimel\w*", s.aim_text, re.I)
        if m:
            spans = [quote(s.aim_text, m.start(), m.end())]
    if any(m.code == "audit" for m in s.misconceptions):  # measuring against a standard is not a result
        spans = []
    return Hit(bool(spans), spans)


@detector("smart.aim_stated", "State your aim explicitly (\"Our aim was to ...\").")
def _aim_stated(ctx: Context) -> Hit:
    """The text states an aim: it is an aim section, or an aim sentence is signposted."""
    s = ctx.smart
    cue = re.search(r"\b(?:aim(?:s|ed)?|objective|goal|target|we (?:will|want to|set out to|intend to)|"
                    r"I (?:will|want to))\b", s.aim_text, re.I)
    return Hit(bool(cue) or ctx.text.lower().startswith(("aim", "specific aim", "smart aim", "objective")),
               [s.aim_text] if cue else [])


@detector("smart.is_smart", "Make the aim SMART: direction, measure, numeric target and time frame.")
def _is_smart(ctx: Context) -> Hit:
    s = ctx.smart
    return Hit(s.is_smart, [s.aim_text] if s.is_smart else [])


# ---------------------------------------------------------------------------------------------
# Generic text
# ---------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\s*(?:%|per ?cent|percent|/\s*\d+|out of \d+|minutes|mins|hours|days|"
                     r"patients|falls|per 1,?000|per (?:day|week|month|year))|\bfrom \d+(?:\.\d+)?%? to \d+|\b\d+\s*(?:of|out of)\s+(?:the\s+)?\d+\b|\bmedian\s+(?:of\s+)?\d+",
                     re.I)


@detector("text.has_numbers", "Quote the numbers (e.g. 12 of 30 patients, 40%, a median of 95 minutes).")
def _has_numbers(ctx: Context) -> Hit:
    spans, lefts = [], set()
    for m in _NUMBER.finditer(ctx.text):
        left, _ = sentence_bounds(ctx.text, m.start(), m.end())
        if left not in lefts:
            lefts.add(left)
            spans.append(quote(ctx.text, m.start(), m.end()))
        if len(spans) >= 3:
            break
    return Hit(bool(spans), spans)


@detector("text.substantial", "Write more: a few sentences at least.")
def _substantial(ctx: Context) -> Hit:
    n = word_count(ctx.text)
    return Hit(n >= 40, [])


# ---------------------------------------------------------------------------------------------
# PDSA
# ---------------------------------------------------------------------------------------------
_PREDICT = re.compile(r"\b(?:predict\w*|we expect\w*|I expect\w*|expected|hypothes\w*|we anticipate\w*|"
                      r"we think (?:that )?(?:this|it)\s+will|we believe (?:that )?(?:this|it)\s+will)\b", re.I)
_QUANTITY = re.compile(r"\d+\s*(?:%|per ?cent|percent|/\s*\d+|out of|of (?:the )?(?:\d+|first|next)|minutes|mins|"
                       r"hours|patients|more|fewer|less)|\b(?:at least|over|under|fewer than|more than|half|"
                       r"a third|double|halve)\b", re.I)
#: "all" / "every" / "none" alone are not a checkable number ("we predicted all staff would like it")
#: a prediction told after the event is not a prediction made before the test ("as we expected all along")
_HINDSIGHT = re.compile(r"\b(?:as (?:we|I)(?: had)?(?: always)? (?:expected|predicted|thought|anticipated|suspected)|"
                        r"all along|in hindsight|with hindsight|(?:we|I) (?:always )?knew|as expected|turned out|"
                        r"(?:just )?as (?:predicted|anticipated))\b", re.I)


_NEGATED_PREDICTION = re.compile(r"\b(?:did not|didn't|do not|don't|no|without|never|forgot to|not)\s+(?:\w+\s+){0,2}"
                                 r"(?:predict\w*|expect\w*|hypothes\w*)", re.I)


_FORECAST = re.compile(r"\b(?:will|would|shall|should|expect\w*|predict\w*|anticipat\w*|hypothes\w*|going to|likely|"
                       r"at least|no more than|more than|fewer than)\b", re.I)


def _prediction_sentences(text: str) -> list[str]:
    # a comparison with the prediction ("fewer than we predicted") is Study, not the prediction itself
    sents = sentences(text)
    if sents and re.match(r"(?i)(?:predictions?|hypothes[ie]s)\s*:?$", sents[0]):  # a Prediction section
        # ... whose sentences predict, unless they say there was none or tell it in hindsight
        return [s for s in sents[1:] if not _NEGATED_PREDICTION.search(s) and not _HINDSIGHT.search(s)
                and not re.match(r"(?i)(?:we|I) (?:did not|didn't|do not|don't|never) (?:write|make|record|have)", s)]
    return [s for s in sents if _PREDICT.search(s) and not _NEGATED_PREDICTION.search(s)
            and not _HINDSIGHT.search(s) and not re.search(
        r"\b(?:than|as|against|with|versus|vs|below|above|under|over)\s+(?:we\s+|our\s+|my\s+|the\s+)?(?:had\s+)?"
        r"predict|prediction was", s, re.I)]


@detector("pdsa.prediction", "Write down a prediction before the test: what do you expect to happen?")
def _prediction(ctx: Context) -> Hit:
    sents = _prediction_sentences(ctx.text)
    return Hit(bool(sents), sents[:2])


@detector("pdsa.prediction_measurable",
          "Make the prediction checkable: put a number on it (e.g. 8 of the 10 patients will ...).")
def _prediction_measurable(ctx: Context) -> Hit:
    # the number must be in what is predicted ("8 of 10 will ..."), not beside it ("Baseline: 18% ...")
    sents = [s for s in _prediction_sentences(ctx.text) if _QUANTITY.search(s) and _FORECAST.search(s)]
    return Hit(bool(sents), sents[:2])


_COMPARE = re.compile(
    r"\b(?:than (?:we |I )?(?:had )?predicted|as (?:we |I )?(?:had )?predicted|(?:our|the|my) prediction (?:was|were|"
    r"is|held|proved|turned out)|predicted \d[^.]{0,60}(?:but|and|whereas|while)|against (?:our|the|my) "
    r"prediction|compared (?:with|to) (?:our|the|my) prediction|prediction (?:was )?(?:not )?(?:met|correct|wrong|"
    r"confirmed|exceeded|supported|borne out)|(?:met|exceeded|missed|fell short of|matched|confirmed) (?:our|the|"
    r"my) prediction|(?:below|above|under|over|short of|in line with|close to|beat|beyond) (?:our|the|my) "
    r"predict\w*|better than expected|worse than expected|than (?:we )?expected|as expected|fewer than "
    r"predicted|more than predicted|we had predicted|we predicted [^.]{0,80}(?:but|and|whereas|actually|only))",
    re.I)


@detector("pdsa.compares_prediction",
          "In Study, compare what happened with what you predicted (was the prediction right, and why?).")
def _compares(ctx: Context) -> Hit:
    spans = [quote(ctx.text, m.start(), m.end()) for m in _COMPARE.finditer(ctx.text)]
    return Hit(bool(spans), spans[:2])


_ACT = re.compile(r"\b(?:adopt\w*|adapt\w*|abandon\w*|scale (?:it )?up|spread|roll(?:ed|ing)? (?:it )?out|next cycle|"
                  r"second cycle|cycle 2|another cycle|PDSA 2|repeat the test|extend (?:the test|it|this)|"
                  r"stop(?:ped)? (?:the|this) (?:change|test)|continue (?:with|the|using)|we will (?:now )?(?:test|try|"
                  r"run))\b", re.I)
_REASON = re.compile(r"\b(?:because|as (?:the|it|this|we|only|most|staff|nurses)|since|given (?:that|the)|so that|"
                     r"due to|therefore|which (?:showed|means|suggests)|this (?:showed|shows|suggests)|"
                     r"so (?:the\s+)?\w+(?:\s+\w+)? (?:are|is|will|can|get|gets))\b", re.I)


@detector("pdsa.act_decision", "Say what you decided in Act: adopt, adapt or abandon, and what the next cycle is.")
def _act(ctx: Context) -> Hit:
    """A decision, not one the text says was not made ("we have not decided yet whether to adopt")."""
    spans = [quote(ctx.text, m.start(), m.end()) for m in _ACT.finditer(ctx.text)
             if not dismissed(ctx.text, m.start(), m.end())]
    return Hit(bool(spans), spans[:2])


@detector("pdsa.act_reasoned", "Give the reason for the Act decision from what you found in Study.")
def _act_reasoned(ctx: Context) -> Hit:
    """A decision with its reason in the same sentence or the one before ("... late because X. We will adapt")."""
    sents = sentences(ctx.text)
    spans = [s for i, s in enumerate(sents)
             if _ACT.search(s) and (_REASON.search(s) or (i > 0 and _REASON.search(sents[i - 1])))]
    return Hit(bool(spans), spans[:2])


# ---------------------------------------------------------------------------------------------
# Charts: did the learner read their own chart correctly?
# ---------------------------------------------------------------------------------------------
_SIGNAL_WORDS = {
    "shift": r"shifts?|(?:long|unusually long|sustained) runs?|(?:six|6|seven|7|eight|8|nine|9|\d{2}) or more "
             r"(?:consecutive )?points? (?:above|below|on one side)|(?:six|6|seven|7|eight|8|nine|9|\d{2}) "
             r"(?:consecutive )?points? (?:in a row )?(?:all )?(?:above|below|on (?:one|the same) side)",
    "trend": r"trends?|(?:five|5|six|6|seven|7) or more (?:consecutive )?points? (?:all )?(?:increasing|decreasing|"
             r"rising|falling)|(?:five|5|six|6|seven|7) (?:consecutive )?points? (?:all )?(?:going up|going down|"
             r"increasing|decreasing|rising|falling)",
    "crossings": r"(?:too )?few (?:median )?crossings|fewer crossings than expected|too few runs|too many runs",
    "astronomical": r"astronomical (?:data )?points?",
    "outside_limits": r"(?:points?|values?|months?|weeks?|days?) (?:lay |lies |lying |fell |falls |falling |was |were "
                      r"|is |are )?(?:above|below|outside|beyond) (?:the )?(?:upper |lower )?(?:control |process )?"
                      r"limits?|outside (?:the )?(?:control |process )?limits|beyond (?:the )?(?:upper |lower )?"
                      r"(?:control |process )?limits?",
    "two_of_three": r"two (?:out )?of (?:the )?(?:last )?three|2 (?:out )?of 3",
}
_SIGNAL_RX = {k: re.compile(rf"\b(?:{v})\b", re.I) for k, v in _SIGNAL_WORDS.items()}
_SPECIAL = re.compile(r"\bspecial[- ]cause\b|\bnon[- ]random\b|\bsignals?\b|\bsignificant (?:change|shift)\b", re.I)
_NO_SIGNAL = re.compile(r"\b(?:no|without any|did not (?:show|find|see)|no evidence of|not (?:a|any)) (?:\w+ ){0,3}"
                        r"(?:signals?|special[- ]cause|non[- ]random|shifts?|trends?)\b|\bcommon[- ]cause variation "
                        r"only\b|\bonly common[- ]cause\b|\brandom variation\b|\bstable (?:process|system)\b|"
                        r"\bin (?:statistical )?control\b", re.I)
_CHART = re.compile(r"\b(?:run charts?|control charts?|(?:upper|lower) control limits?|SPC(?: charts?)?|statistical process control|XmR|I[- ]?MR|"
                    r"I charts?|p[- ]charts?|u[- ]charts?|c[- ]charts?|shewhart|process behaviou?r charts?|"
                    r"individuals charts?)\b", re.I)
_RAG_OR_MONTHLY = re.compile(r"\b(?:red|amber|green)[- ](?:amber|green|red)|\bRAG (?:rating|status|table|report|"
                             r"dashboard)s?\b|\bmonth[- ]on[- ]month\b", re.I)
#: (pattern, feedback note, extra cue that the sentence rejects this misreading) -- every pattern is read with
#: the shared rejecting cues, per sentence, so naming a misreading to reject it is not a misreading
_MISREAD = [
    (re.compile(r"\b(?:above|below|beat|beyond|over|crossed|met|exceeded) (?:the |our )?(?:\d+(?:\.\d+)?%? )?target(?: line)?\b[^.]{0,80}"
                r"\b(?:special[- ]cause|signal)|\bspecial[- ]cause\b[^.]{0,80}\b(?:above|below|beyond|over) (?:the |our )?"
                r"target", re.I),
     "A point beyond the target line is not special cause: targets are not control limits.", None),
    (re.compile(r"\b(?:run chart\b[^.]{0,80}\bmean\b(?! (?:time|minutes|length|of \d))|\bmean (?:line|centre line|center "
                r"line)\b[^.]{0,60}\brun chart)", re.I),
     "A run chart's centre line is the median, not the mean.",
     re.compile(r"\b(?:centre|center)[- ]line (?:is|was) (?:the )?median|\bmedian\b[^.;]{0,30}\b(?:centre|center)[- ]"
                r"line|\bus(?:e|es|ed|ing) (?:the |a )?median\b", re.I)),
    (re.compile(r"\b(?:every|each) (?:rise|fall|increase|decrease|drop|change)\b[^.]{0,60}\b(?:shows?|means?|is)\b|"
                r"\bthe last (?:point|week|month) (?:was|is) (?:higher|lower|better|worse)\b[^.]{0,80}\b(?:so|which shows|"
                r"proving|therefore)\b|\b(?:one|a single) (?:good |bad )?(?:week|month|point)\b[^.]{0,60}\b(?:shows?|"
                r"proves?|demonstrates?)\b", re.I),
     "A single rise or fall is usually common-cause variation; look for a run-chart or SPC rule before calling it a "
     "change.",
     re.compile(r"\bon (?:its|their) own\b|\bcommon[- ]cause\b|\brandom (?:variation|noise)\b|\bby chance\b",
                re.I)),
    (re.compile(r"\b(?:no|none of the|not a single) points? (?:was |were |is |are |lie |lay |fell )?(?:outside|beyond) "
                r"(?:the )?(?:control )?limits\b[^.]{0,80}\b(?:so|therefore|which means|meaning)\b[^.]{0,60}\b(?:no "
                r"change|no improvement|in control|stable|nothing changed)", re.I),
     "No point outside the limits does not mean no change: a shift or trend is a signal too.", None),
    (_RAG_OR_MONTHLY,
     "RAG ratings and month-on-month comparisons do not show change over time; use a run or SPC chart.", None),
]


#: a signal set aside beside another ("a shift, not a trend", "not a trend but a shift"): drop the phrase, keep the rest
_SET_ASIDE_SIGNAL = re.compile(r"\b(?:not|rather than|instead of)\s+(?:a |an |any )?(?:\w+ ){0,2}?(?:signals?|"
                               r"special[- ]cause|shifts?|trends?|(?:long )?runs?|crossings|astronomical points?)\b", re.I)


def _signals_named(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for sent in sentences(text):
        read = sent
        if _NO_SIGNAL.search(sent):
            read = _SET_ASIDE_SIGNAL.sub(" ", sent)
            if read == sent or _NO_SIGNAL.search(read):  # the sentence denies the signals it names
                continue
        for k, rx in _SIGNAL_RX.items():
            m = rx.search(read)
            if m and not re.search(r"\bsecular trend|\btrend(?:s)? in (?:the )?(?:national|wider)", read, re.I):
                found.setdefault(k, []).append(sent)
    return found


#: the rule set a learner says they read the chart by, and its thresholds on the chart facts (longest run on one
#: side of the centre line, longest run of rising or falling points): IHI (Perla, Provost & Murray 2011: shift 6+,
#: trend 5+) and NHS Making Data Count (7 and 7), as `qicourse.charts.rules`; Anhøj is what `chart_signals` holds
_RULE_SET_NAMED = [("ihi", re.compile(r"\bIHI\b|\bPerla\b|Institute for Healthcare Improvement", re.I), 6, 5),
                   ("mdc", re.compile(r"\bMaking Data Count\b|\bMDC\b", re.I), 7, 7)]


def _fact_signals(facts: dict, text: str = "") -> list[str] | None:
    """Normalise `facts["chart_signals"]` (rule names from the learner's own chart) to our signal names; when the
    text names the IHI or Making Data Count rules and the facts hold the run lengths, the signals by those rules."""
    raw = facts.get("chart_signals") if facts else None
    if raw is None:
        return None
    longest, trend_len = facts.get("longest_run"), facts.get("longest_trend")
    for _name, rx, shift_at, trend_at in _RULE_SET_NAMED:
        if text and rx.search(text) and isinstance(longest, int) and isinstance(trend_len, int):
            out = ["shift"] if longest >= shift_at else []
            out += ["trend"] if trend_len >= trend_at else []
            out += ["outside_limits"] if facts.get("n_outside_limits") else []
            return sorted(out)
    if isinstance(raw, str):
        raw = [raw]
    out = []
    for r in raw:
        r = str(r).lower()
        for key, words in (("shift", ("shift", "long run", "run")), ("trend", ("trend",)),
                           ("crossings", ("crossing",)), ("astronomical", ("astronomical",)),
                           ("outside_limits", ("limit", "outside", "sigma", "3")), ("two_of_three", ("two", "2 of"))):
            if any(w in r for w in words):
                out.append(key)
                break
    return sorted(set(out))


@detector("chart.named", "Say which chart you used (run chart, p chart, XmR ...).")
def _chart_named(ctx: Context) -> Hit:
    """The chart named in this section, or elsewhere in the report (a Methods section often names it)."""
    for text in (ctx.text, ctx.whole):
        spans = [quote(text, m.start(), m.end()) for m in _CHART.finditer(text)] if text else []
        if spans:
            return Hit(True, spans[:2])
    return Hit(False)


@detector("chart.signal_named",
          "Name the rule your chart shows (e.g. a shift of 6+ points below the median) or say that it shows none.")
def _signal_named(ctx: Context) -> Hit:
    found = _signals_named(ctx.text)
    spans = [s for v in found.values() for s in v]
    if not spans:
        spans = [s for s in sentences(ctx.text) if _NO_SIGNAL.search(s)]
    if not spans:
        spans = [s for s in sentences(ctx.text) if _SPECIAL.search(s)]
    return Hit(bool(spans), list(dict.fromkeys(spans))[:3])


@detector("chart.signal_correct",
          "Check the signal you describe against your chart: name the rule it actually shows.")
def _signal_correct(ctx: Context) -> Hit:
    """Named signals agree with the learner's own chart (facts); without facts, any named signal counts."""
    found = _signals_named(ctx.text)
    facts = _fact_signals(ctx.facts, ctx.whole or ctx.text)
    if facts is None:
        spans = [s for v in found.values() for s in v]
        return Hit(bool(spans), list(dict.fromkeys(spans))[:2])
    if not facts:  # the chart shows no signal: the learner should say so and claim no shift/trend
        no = [s for s in sentences(ctx.text) if _NO_SIGNAL.search(s)]
        return Hit(bool(no) and not found, no[:2])
    spans = [s for k in facts for s in found.get(k, [])]
    return Hit(bool(spans), list(dict.fromkeys(spans))[:2])


@detector("chart.misread", "Read the chart by its rules (run-chart or SPC rules), not by eye or against the target.")
def _misread(ctx: Context) -> Hit:
    spans, notes = [], []
    for rx, note, rejects in _MISREAD:
        m = first_accepted(rx, ctx.text, rejects)
        if m:
            spans.append(quote(ctx.text, m.start(), m.end()))
            notes.append(note)
    facts = _fact_signals(ctx.facts, ctx.whole or ctx.text)
    if facts is not None:
        found = _signals_named(ctx.text)
        wrong = sorted(set(found) - set(facts))
        if wrong and not (set(found) & set(facts)):
            what = ", ".join(w.replace("_", " ") for w in wrong)
            shows = ", ".join(f.replace("_", " ") for f in facts) or "no signal"
            spans.append(found[wrong[0]][0])
            notes.append(f"The report describes a {what} but the chart in the notebook shows {shows}.")
    return Hit(bool(spans), spans[:2], note=" ".join(notes))


_LINK = re.compile(r"\b(?:after|following|since|from) (?:the )?(?:(?:first|second|third|\d(?:st|nd|rd|th)) )?(?:introduction|start|launch|PDSA|cycle|change|week \d+|"
                   r"we (?:introduced|started|began))|\bcoincid\w*|\bannotat\w*|\bin (?:week|month) \d+|\bfrom (?:week|"
                   r"month) \d+|\bwhen (?:we|the) (?:introduced|started|began)|\btimed with\b", re.I)


@detector("chart.linked_to_changes", "Link the signal to when each change was made (annotate the chart).")
def _linked(ctx: Context) -> Hit:
    """Signals linked to the changes; with no signal on the learner's chart (or none claimed) there is none to link."""
    facts = _fact_signals(ctx.facts, ctx.whole or ctx.text)
    if facts == [] or (facts is None and not _signals_named(ctx.text) and any(
            _NO_SIGNAL.search(s) for s in sentences(ctx.text))):
        return Hit(False)
    spans = [s for s in sentences(ctx.text) if _LINK.search(s)]
    return Hit(bool(spans), spans[:2])


# ---------------------------------------------------------------------------------------------
# Equity: is the claim about the gap what the learner's own numbers show?
# ---------------------------------------------------------------------------------------------
_GAP_CLAIMS = {
    "narrowed": re.compile(
        r"\bgap\w*\s+(?:\w+\s+){0,8}?(?:narrow\w*|closed|clos(?:es|ing)|shr[au]nk|decreased|reduced|fell|got smaller|"
        r"halved)|\b(?:narrow\w*|clos\w*|reduc\w*|shr[iau]nk\w*)\s+(?:the|this|that|a)\s+(?:\w+\s+){0,2}?gap|"
        r"\binequalit\w*\s+(?:\w+\s+){0,2}?(?:narrow\w*|fell|reduced|decreased)|\breduc\w* (?:the )?inequalit\w*|"
        r"\b(?:most|more) deprived\b[^.]{0,60}\b(?:benefit\w*|improv\w*) (?:the )?most\b|\bmore equitable\b", re.I),
    "widened": re.compile(
        r"\bgap\w*\s+(?:\w+\s+){0,8}?(?:widen\w*|grew|increased|got (?:bigger|wider))|\bwiden\w*\s+(?:the|this|that|a)\s+"
        r"(?:\w+\s+){0,2}?gap|\binequalit\w*\s+(?:\w+\s+){0,2}?(?:widen\w*|grew|increased)|\bbenefit\w* less\b", re.I),
    "unchanged": re.compile(
        r"\bgap\w*\s+(?:\w+\s+){0,8}?(?:persist\w*|remain\w*|stay\w*|(?:was|is) unchanged|did not change|"
        r"(?:was|is) the same)", re.I),
}


def gap_claims(text: str) -> list[tuple[str, str]]:
    """(claimed direction, quoted sentence) for each claim about the equity gap that is not negated."""
    out = []
    for direction, rx in _GAP_CLAIMS.items():
        for m in rx.finditer(text):
            if re.search(r"\b(?:not|never|no longer)\b|n't\b", m.group(0), re.I):  # "the gap did not narrow"
                continue
            if not dismissed(text, m.start(), m.end()):
                out.append((direction, quote(text, m.start(), m.end())))
    return out


#: a gap that moves by no more than this (percentage points) has stayed level
GAP_TOLERANCE = 0.5


def gap_change(facts: dict) -> str | None:
    """'widened', 'narrowed' or 'unchanged' from `equity_gap_change`, or from `equity_gap_before` / `_after`
    (quintile 5 minus quintile 1, as m8 defines `equity_gap_after`); None without usable facts."""
    change = facts.get("equity_gap_change")
    if change in ("narrowed", "widened", "unchanged"):
        return change
    before, after = facts.get("equity_gap_before"), facts.get("equity_gap_after")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after)):
        return None
    if abs(after) > abs(before) + GAP_TOLERANCE:
        return "widened"
    return "narrowed" if abs(after) < abs(before) - GAP_TOLERANCE else "unchanged"


@detector("equity.gap_contradicted",
          "Check what you say about the equity gap against your own stratified table (Question 8).")
def _gap_contradicted(ctx: Context) -> Hit:
    """A claim that the gap narrowed (or widened) that the learner's own `equity_percent` contradicts (facts)."""
    change = gap_change(ctx.facts or {})
    if change is None:
        return Hit(False)
    wrong = [(d, q) for d, q in gap_claims(ctx.text) if d != change]
    if not wrong:
        return Hit(False)
    d, q = wrong[0]
    before, after = ctx.facts.get("equity_gap_before"), ctx.facts.get("equity_gap_after")
    nums = f" (from {before:g} to {after:g} percentage points)" if isinstance(before, (int, float)) and isinstance(
        after, (int, float)) else ""
    return Hit(True, [q], note=f"The report says the gap {d}, but your own stratified table shows it {change}{nums}: "
                               f"check the claim against your numbers.", dismissed=True)
