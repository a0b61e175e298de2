"""Run and control charts for QI: ``qic()`` calculations and (lazily imported) ``plot_qic()``.

References: qicharts2 (Anhøj, ``qic()``; GPL-3, used for its published numbers only), Montgomery's
*Introduction to Statistical Quality Control* for the limits, Perla, Provost & Murray (2011) for
the IHI run-chart rules, and NHS England's Making Data Count / NHSRplotthedots (MIT) for the
``mdc`` rules, colours and icons. Calculation never imports matplotlib; ``plot_qic`` does.

Rule sets (``qic(..., rules=...)``) and how each treats the awkward cases:

============  =========================================  ==========================  ========================  ==========================
rule set      rules (source)                             point on the centre line    ties in a trend           moving-range screening
============  =========================================  ==========================  ========================  ==========================
``anhoej``    3-sigma (control charts); longest run >    ignored: neither breaks     no trend rule             none by default
(default)     round(log2 n)+3; crossings <               nor extends a run, not      (Anhøj & Olesen 2014      (``screen_mr=True``
              qbinom(0.05, n-1, 0.5). Anhøj & Olesen      counted in n useful         found it useless)         drops MR >= 3.267 MR-bar,
              2014; qicharts2 ``runs.analysis``                                                                as qicharts2 does)
``ihi``       3-sigma (control charts); shift 6+ on one  ignored: neither breaks     equal successive values   none by default
              side; trend 5+ up or down; too few/many    nor extends a shift, not    count once: a tie neither
              runs (IHI table; Swed-Eisenhart, 5 %).     counted in n useful         breaks nor extends
              Perla, Provost & Murray 2011
``mdc``       outside limits; 7-point trend; 2 of 3      breaks a 7-point run and    a tie breaks the trend    none by default, as the
              beyond 2 sigma on one side; 7 points on    spoils a 2-of-3 window      (6 differences of the     MDC Excel tools;
              one side of the mean. NHS England MDC;                                 same sign needed)         NHSRplotthedots screens
              NHSRplotthedots ``ptd_calculate_point_type``                                                     (``screen_mr=True``)
``shewhart``  a point beyond the 3-sigma limits only     not relevant                no trend rule             none by default
============  =========================================  ==========================  ========================  ==========================

The same table, with worked detail, is in ``RULES.md`` next to this file.
"""

from __future__ import annotations

from .core import CHARTS, DIRECTIONS, QicResult, ShortSeriesWarning, assurance_type, qic
from .rules import RULE_LABELS, RULE_SETS
from .runs import anhoej_limits, count_runs, ihi_runs_limits, qbinom_half, runs_analysis

__all__ = [
    "CHARTS",
    "DIRECTIONS",
    "RULE_LABELS",
    "RULE_SETS",
    "QicResult",
    "ShortSeriesWarning",
    "anhoej_limits",
    "assurance_type",
    "count_runs",
    "ihi_runs_limits",
    "plot_qic",
    "qbinom_half",
    "qic",
    "runs_analysis",
]


def __getattr__(name: str):
    # plot_qic imports matplotlib; load it only when asked for
    if name == "plot_qic":
        from .plot import plot_qic

        return plot_qic
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
