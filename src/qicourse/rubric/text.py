"""Plain-text helpers for reading learners' Markdown: strip syntax, split into sections, quote spans.

Everything here is regular-expression work on strings: deterministic, fast on long answers,
and free of NLP dependencies, so the marker's decisions can always be explained.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

#: Answers longer than this are cut before marking (a 50,000-word answer is ~300,000 characters;
#: no honest write-up cell is longer than a few thousand words).
MAX_CHARS = 200_000

_LONG_TOKEN = re.compile(r"([^\s]{40})[^\s]+")
_FENCE = re.compile(r"```.*?(```|\Z)", re.S)
_HTML_TAG = re.compile(r"<[^>\n]{1,200}>")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_EMPH = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_LIST_MARK = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+", re.M)
_QUOTE = re.compile(r"^[ \t]*>[ \t]?", re.M)
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.M)
_HRULE = re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$", re.M)


def strip_markdown(text: str) -> str:
    """Markdown to plain text, keeping headings as their own lines (the section splitter needs them).

    Code blocks, images and HTML tags are dropped; links keep their words; emphasis markers,
    list bullets, block quotes and table pipes are removed.
    """
    if not text:
        return ""
    text = text[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    text = _LONG_TOKEN.sub(r"\1", text)  # no real word is 40 characters long; keeps every regex linear
    text = _FENCE.sub("\n", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _HEADING.sub(lambda m: "\n" + m.group(2).strip() + "\n", text)
    text = _TABLE_RULE.sub("", text)
    text = _HRULE.sub("", text)
    text = _QUOTE.sub("", text)
    text = _LIST_MARK.sub("", text)
    for _ in range(2):  # nested emphasis (***bold italic***)
        text = _EMPH.sub(r"\2", text)
    text = text.replace("|", " ; ")
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2013", "-").replace("\u2014", " - ").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" ?\n(?: ?\n)+ ?", "\n\n", text)
    return text.strip()


@dataclass(frozen=True)
class Section:
    """One headed part of a report: the heading as written and the plain text under it."""

    heading: str
    text: str


def split_sections(markdown: str, labels: set[str] | frozenset[str] = frozenset()) -> list[Section]:
    """Split Markdown into sections at headings.

    Headings are ATX (`## Aim`), setext (`Aim` underlined with `---`), or a short bold line on
    its own (`**Aim**`, `Aim:`) as learners often write them. A line that opens with an inline
    label (`Study: 7 of 9 ...`, `**Act:** adapt ...`) starts a section too, but only when the label
    is one of `labels` (normalised heading words), so "Outcome measure: ..." inside a Measures
    section does not split it. Text before the first heading goes into a section with an empty
    heading.
    """
    if not markdown:
        return []
    md = markdown[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    md = _LONG_TOKEN.sub(r"\1", md)
    md = _FENCE.sub("\n", md)
    lines = md.split("\n")
    heads: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        h = _heading_of(line, lines[i + 1] if i + 1 < len(lines) else "")
        if h is None and labels:
            m = _INLINE_LABEL.match(line)
            label = m.group(1) if m and _names_label(m.group(1), labels) else None
            end = m.end() if label else 0
            if label is None:
                label, end = _run_in(line, labels)
            if label is not None:
                heads.append((i, _clean_heading(label)))
                lines[i] = "\x00" + line[end:]  # marks a body that starts on the heading line
                continue
            if _bare_label_line(line, labels):
                h = _clean_heading(line.strip().rstrip("?:"))
        if h is not None:
            heads.append((i, h))
    sections: list[Section] = []
    starts = [i for i, _ in heads]
    pre = "\n".join(lines[: starts[0]] if starts else lines)
    if pre.strip():
        sections.append(Section("", strip_markdown(pre)))
    for k, (i, h) in enumerate(heads):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        if lines[i].startswith("\x00"):
            body = [lines[i][1:], *lines[i + 1 : end]]
        else:
            body = lines[i + 1 : end]
            if body and re.fullmatch(r"\s*(=+|-+)\s*", body[0] or "x"):  # setext underline
                body = body[1:]
        sections.append(Section(h, strip_markdown("\n".join(body))))
    return sections


def _names_label(words: str, labels: set[str] | frozenset[str]) -> bool:
    """Does a short label ("Design/Methods", "Implications for Practice and Research") hold a known heading?"""
    norm = normalise_heading(words)
    if norm in labels:
        return True
    # "PDSA 1: we predicted ..." numbers a part inside a section, and "Equity was considered: ..." is a sentence
    if len(norm.split()) > 6 or re.search(r"\d", norm) or set(norm.split()) & _CLAUSE_WORDS:
        return False
    return any(f" {a} " in f" {norm} " for a in labels)


_CLAUSE_WORDS = frozenset("was were is are has have had will would we our i it this that they be been not no".split())


#: a run-in heading opens its paragraph: "Results The proportion rose ...", "METHODS We measured ...",
#: "Aim This project set out to ..." (SQUIRE / IMRaD structured abstracts printed without colons)
_RUN_IN = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?((?:[A-Z][A-Za-z&/'-]*)(?:[ \t]+[a-zA-Z&/'-]+){0,5}?)[ \t]+(?=[A-Z\"'(])")


_BOLD_RUN_IN = re.compile(r"^[ \t]*(\*\*|__)([^*_\n]{2,60}?)\1[ \t]*:?[ \t]+(?=\S)")


def _run_in(line: str, labels: set[str] | frozenset[str]) -> tuple[str | None, int]:
    """(label, end of label) when the line opens with a known heading run into its text, else (None, 0)."""
    b = _BOLD_RUN_IN.match(line)
    if b and _names_label(b.group(2), labels):  # "**Background** Medicines are often changed ..."
        return b.group(2), b.end()
    m = _RUN_IN.match(line)
    if not m:
        return None, 0
    words = m.group(1).split()
    first = words[0]
    # the label is written as a heading: capitalised ("Results") or in capitals ("BACKGROUND")
    for k in range(len(words), 0, -1):
        cand = " ".join(words[:k])
        if normalise_heading(cand) in labels and (k == len(words)) and (first.isupper() or first[:1].isupper()):
            return cand, m.end()
    return None, 0


def _bare_label_line(line: str, labels: set[str] | frozenset[str]) -> bool:
    """A short line of its own naming a known heading ("Background & Problem", "What are we trying to achieve?")."""
    t = line.strip()
    if not t or len(t) > 60 or t.endswith((".", ",", ";")) or not t[:1].isupper():
        return False
    norm = normalise_heading(t)
    return 0 < len(norm.split()) <= 8 and any(f" {a} " in f" {norm} " for a in labels)


_INLINE_LABEL = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)?([A-Za-z][A-Za-z /&-]{1,40}?)[ \t]*(?::|(?:\*\*|__)[ \t]*:|:[ \t]*(?:\*\*|__)|[ \t]+-[ \t]+)(?:\*\*|__)?[ \t]*(?=\S)")
_NUMBERED_LINE = re.compile(r"^[ \t]*\d{1,2}[.)][ \t]+([A-Z][A-Za-z ,&/'()-]{1,50}?)[ \t]*:?[ \t]*$")
_BOLD_LINE = re.compile(r"^[ \t]*(\*\*|__)([^*_\n]{2,60}?)\1[ \t]*:?[ \t]*$")
_COLON_LINE = re.compile(r"^[ \t]*([A-Z][A-Za-z0-9 ,&/()'-]{1,50}):[ \t]*$")
_SETEXT = re.compile(r"^[ \t]*(=+|-+)[ \t]*$")


def _heading_of(line: str, next_line: str) -> str | None:
    m = _HEADING.match(line)
    if m:
        return _clean_heading(m.group(2))
    m = _BOLD_LINE.match(line)
    if m:
        return _clean_heading(m.group(2))
    m = _NUMBERED_LINE.match(line)
    if m and len(m.group(1).split()) <= 6:  # "3. Discussion" on a line of its own
        return _clean_heading(m.group(1))
    m = _COLON_LINE.match(line)
    if m:
        return _clean_heading(m.group(1))
    if line.strip() and len(line.strip()) <= 60 and _SETEXT.match(next_line) and len(next_line.strip()) >= 3:
        return _clean_heading(line)
    return None


def _clean_heading(h: str) -> str:
    h = re.sub(r"[*_`#]", "", h).strip()
    h = re.sub(r"^(\d+(\.\d+)*[.)]?|[ivx]+[.)])\s+", "", h, flags=re.I)  # "3. Aim", "ii) Aim"
    return h.strip(" :")


@functools.lru_cache(maxsize=4096)
def normalise_heading(h: str) -> str:
    """Lower-case words of a heading, for matching against a rubric's section aliases."""
    return " ".join(_WORDS.findall(h.lower()))


_WORDS = re.compile(r"[a-z0-9]+")


#: a sentence ends at . ! or ? followed by space or the end, closing quotes and brackets included ('... 90%."')
_SENT = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*(?=\s|$)|$)", re.M)


def sentences(text: str) -> list[str]:
    """Sentences of plain text, split at full stops, question marks and line breaks.

    Decimal points ("2.5%") and abbreviations with a following lower-case word are kept together.
    """
    if not text:
        return []
    protected = re.sub(r"(\d)\.(\d)", "\\1\u2024\\2", text)
    protected = re.sub(r"\b(e\.g|i\.e|approx|vs|Dr|Mr|Mrs|Ms|no|etc)\.(?=\s+[a-z0-9])", "\\1\u2024", protected,
                       flags=re.I)
    out = []
    for m in _SENT.finditer(protected):
        s = m.group(0).strip().replace("\u2024", ".")
        if s:
            out.append(s)
    return out


_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)|\n")


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """[left, right) of the sentence holding text[start:end] (a full stop before a digit is a decimal point)."""
    lo = max(0, start - 2000)
    left = lo if lo else 0
    for m in _END.finditer(text, lo, start):
        left = m.end()
    m = _END.search(text, end, min(len(text), end + 2000))
    right = m.end() if m else min(len(text), end + 2000)
    return left, right


def quote(text: str, start: int, end: int, width: int = 160) -> str:
    """The sentence of `text` around [start, end), trimmed to about `width` characters around the match."""
    left, right = sentence_bounds(text, start, end)
    span = text[left:right].strip()
    if len(span) > width:
        offset = text[left:right].find(span[:20]) if span else 0
        mid_start = max(0, start - left - offset - width // 3)
        span = ("…" if mid_start > 0 else "") + span[mid_start : mid_start + width].strip() + "…"
    return span


def word_count(text: str) -> int:
    return len(re.findall(r"[A-Za-z\u00c0-\u024f\u0400-\u04ff\u4e00-\u9fff]+", text))


_EN_STOP = frozenset(
    "the a an and of to in on for with by from at is are was were be will we our this that it as "
    "patients patient ward".split()
)


def looks_english(text: str) -> bool:
    """Whether plain text is plausibly English: enough Latin letters and common English words.

    Short answers (under 8 words) are given the benefit of the doubt.
    """
    letters = re.findall(r"[^\W\d_]", text)
    if len(letters) >= 20 and sum(1 for ch in letters if ch.isascii()) / len(letters) < 0.5:
        return False  # mostly non-Latin script (Chinese, Arabic, Cyrillic ...)
    words = re.findall(r"\w+", text.lower())
    if len(words) < 8:
        return True
    latin = sum(1 for w in words if re.fullmatch(r"[a-z0-9'-]+", w))
    if latin / len(words) < 0.6:
        return False
    stop = sum(1 for w in words if w in _EN_STOP)
    return stop / len(words) >= 0.08


# ---------------------------------------------------------------------------------------------
# Naming an idea in order to reject it ("a run chart uses the median, not the mean")
# ---------------------------------------------------------------------------------------------
#: cues that a sentence names a misconception to criticise, avoid or deny it rather than rely on it; a bare
#: "not" is not enough ("the RAG status was not red after May, so it worked" is still a misreading)
REJECTING = re.compile(
    r"\b(?:replac\w*|instead of|rather than|mislead\w*|misled|misread\w*|misconceptions?|mistak\w*|wrong\w*|"
    r"incorrect\w*|myths?|fallac\w*|would have|could have|avoid\w*|unlike|no longer|stopped using|moved away from|"
    r"hides?|hid|conceals?|cannot|can't|in isolation|by itself|"
    r"(?:shows?|proves?|tells? us|means?|says?) (?:nothing|little)\b(?! (?:changed|happened|improved|was))|"
    r"(?:do|does|did|would|could|can|should|will|must)(?:n't| not) (?:\w+ )?(?:use|rely|trust|show|tell|reveal|"
    r"distinguish|separate|mean|prove|indicate|demonstrate|treat|read|count|call|interpret|take)|"
    r"not (?:a|an|the|by|from|use|using|rely|relying|trust|based|necessarily|special|evidence|proof|enough|"
    r"sufficient)\b)",
    re.I)


def rejected_in_sentence(text: str, start: int, end: int, extra: re.Pattern[str] | None = None) -> bool:
    """Does the sentence holding text[start:end] carry a rejecting cue (`REJECTING`, or `extra`)?"""
    left, right = sentence_bounds(text, start, end)
    return bool(REJECTING.search(text, left, right) or (extra is not None and extra.search(text, left, right)))


def first_accepted(rx: re.Pattern[str], text: str, extra: re.Pattern[str] | None = None,
                   limit: int = 50) -> re.Match[str] | None:
    """First match of `rx` whose sentence does not reject it; `limit` bounds the work on hostile text."""
    for tries, m in enumerate(rx.finditer(text)):
        if tries >= limit:
            break
        if not rejected_in_sentence(text, m.start(), m.end(), extra):
            return m
    return None


def preceded_by(text: str, start: int, cue: re.Pattern[str], window: int = 60) -> bool:
    """Does `cue` (anchored with `$`) end just before `start`? For phrases set aside in place ("not by X")."""
    return bool(cue.search(text[max(0, start - window):start]))


# ---------------------------------------------------------------------------------------------
# Negation and dismissal ("no balancing measure was needed", "regression to the mean cannot explain this")
# ---------------------------------------------------------------------------------------------
#: a negation just before the term ("no balancing measure", "did not collect a balancing measure", "without any
#: equity data"), but not a double negative that keeps it ("we cannot rule out regression to the mean")
_NEG_BEFORE = re.compile(
    r"\b(?:no|not|without|none|never|nor|neither|n't)\b(?!\s+(?:be\s+)?(?:rule[ds]?|ruling|exclude[ds]?|excluding|"
    r"discount\w*|sure|certain|only|just)\b)(?:[\s,]+[\w'-]+){0,7}[\s,]*$|\b(?:there was|there is|we had|we have) no "
    r"need (?:for|to)(?:\s+[\w'-]+){0,3}\s*$|\bno need (?:for|to)(?:\s+[\w'-]+){0,3}\s*$", re.I)
#: a dismissal just after the term ("... was not needed", "... : none", "... cannot explain the fall", "... we did
#: not collect one", "... is not relevant here")
_DISMISS_AFTER = re.compile(
    r"^\W*(?:(?:[\w'-]+\s+){0,3}?(?:was|were|is|are|seemed|seems)(?:\s+\w+)?\s+(?:not|n't|never)\s+(?:\w+\s+)?"
    r"(?:needed|necessary|required|relevant|applicable|collected|measured|recorded|used|considered|an issue|a concern|"
    r"a factor|a problem|important|useful|possible)|(?:[\w'-]+\s+){0,3}?(?:was|were|is|are) (?:unnecessary|irrelevant|"
    r"ruled out|excluded|not applicable)|:?\s*(?:none|n/?a|not applicable|nil|not done|not needed)\b|"
    r"(?:[\w'-]+\s+){0,3}?(?:cannot|can't|could not|couldn't|does not|doesn't|did not|didn't) (?:explain|account for|"
    r"apply|matter)|(?:[\w'-]+\s+){0,6}?(?:we|I) (?:did not|didn't|do not|don't|never) (?:collect|measure|record|use|"
    r"need|have|include|consider|look at|check|track)|(?:[\w'-]+\s+){0,3}?(?:can|could) be (?:ignored|ruled out|"
    r"excluded|discounted|dismissed)|[^.]{0,40}?\bbut (?:that|this|it) (?:only applies|does not apply|doesn't apply|"
    r"is not relevant|isn't relevant|is irrelevant|applies only))", re.I)


_CLAUSE_BREAK = re.compile(r";|:|\s-\s|,\s+(?:so|but|then|which|because|and then|and we|and I)\b|\b(?:but|so|because|although|"
                           r"though|whereas|while)\b", re.I)


def dismissed(text: str, start: int, end: int) -> bool:
    """Is the term at text[start:end] negated or dismissed in its own clause, so it should not count?"""
    left, right = sentence_bounds(text, start, end)
    before = text[left:start][-80:]
    # a negation reaches over a list ("not decided whether to adopt, adapt or abandon") but not into a new clause
    # ("we did not use it on nights, so we adapted it")
    cut = max((m.end() for m in _CLAUSE_BREAK.finditer(before)), default=0)
    before = before[cut:]
    after = text[end:right][:100]
    if not after.strip(" \t\n:-–—"):  # a heading or label: its text is on the next line ("Limitations:\nNone.")
        after = text[end:end + 100]
    return bool(_NEG_BEFORE.search(before) or _DISMISS_AFTER.match(after))


# ---------------------------------------------------------------------------------------------
# Substance: prose, not a list of terms
# ---------------------------------------------------------------------------------------------
_FUNCTION_WORDS = frozenset(
    "the a an of to in on at by for with from and or but was were is are be been we i our it this that these those "
    "which who as than so not no had has have did do will would could should can may might they their there after "
    "before during within over under into".split())


#: the commonest function words of French, Spanish, Italian, Portuguese and German
_FOREIGN_WORDS = frozenset(
    "de la le les des du et dans nous notre pour une un est sont avec el los las y en que del por con una es il di che "
    "per della gli e o da do dos das em um uma der die das und ist nicht mit von zu den wir im".split()) - _FUNCTION_WORDS


def is_term_list(text: str, min_words: int = 12, threshold: float = 0.08) -> bool:
    """Is this a list of terms rather than sentences? Function words (the, of, we, was ...) are about 40% of
    English prose and at least 14% of the tersest real report sections (bulleted actions, "Outcome: % of ...")
    we have seen; a list of keywords ("outcome measure, balancing measure, run chart, shift ...") has under 5%.
    A text in another language has few English function words too, but its own (de, la, und ...)."""
    words = re.findall(r"[A-Za-z']+", text.lower())
    if len(words) < min_words:
        return False
    if sum(w in _FOREIGN_WORDS for w in words) / len(words) >= 0.08:
        return False  # a sentence in another language (told apart by `looks_english`), not a list
    if sum(w in _FUNCTION_WORDS for w in words) / len(words) < threshold:
        return True
    # or mostly short fragments between commas and stops with no function word at all ("Baseline, target,
    # numerator, denominator. 52%, 90%. AMU, ED, Ward 7 ...")
    bare = 0
    for frag in re.split(r"[,;:.\n•✓|()]+", text):
        fw = re.findall(r"[A-Za-z']+", frag.lower())
        if 0 < len(fw) <= 4 and not any(w in _FUNCTION_WORDS for w in fw):
            bare += len(fw)
    return bare / len(words) >= 0.6
