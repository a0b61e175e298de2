"""Agreement between the marker and hand marks: exact agreement and quadratic weighted kappa.

Weighted kappa is Cohen's (1968) chance-corrected agreement with disagreement weights; with
quadratic weights w_ij = (i - j)^2 / (k - 1)^2 it is
    kappa_w = 1 - sum(w_ij * O_ij) / sum(w_ij * E_ij),
where O is the observed joint proportion table and E = outer product of the two raters' marginal
proportions (Cohen J. Weighted kappa. Psychol Bull 1968;70:213-20; Fleiss & Cohen 1973 show it
equals an intraclass correlation). With two categories it reduces to Cohen's unweighted kappa.
"""

from __future__ import annotations

from collections.abc import Sequence


def exact_agreement(a: Sequence[int], b: Sequence[int]) -> float:
    """Proportion of items where both raters gave the same level."""
    _check(a, b)
    return sum(1 for x, y in zip(a, b) if x == y) / len(a)


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], n_levels: int | None = None) -> float | None:
    """Cohen's quadratic weighted kappa for integer levels 0..n_levels-1 (None when undefined).

    Undefined (None) when chance disagreement is zero: every rating of both raters is the same level.
    """
    _check(a, b)
    if any(int(x) != x or x < 0 for x in (*a, *b)):
        raise ValueError("levels must be non-negative integers")
    k = int(n_levels if n_levels is not None else max(max(a), max(b)) + 1)
    if k < 2:
        return None
    n = len(a)
    obs = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b):
        obs[int(x)][int(y)] += 1.0 / n
    row = [sum(r) for r in obs]
    col = [sum(obs[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            w = (i - j) ** 2 / (k - 1) ** 2
            num += w * obs[i][j]
            den += w * row[i] * col[j]
    if den == 0:
        return None
    return 1.0 - num / den


def _check(a: Sequence[int], b: Sequence[int]) -> None:
    if len(a) != len(b):
        raise ValueError(f"the two raters marked different numbers of items ({len(a)} and {len(b)})")
    if not a:
        raise ValueError("no items to compare")


def agreement_table(pairs: dict[str, tuple[list[int], list[int], int]]) -> list[dict]:
    """Rows {criterion, n, exact, qwk} for {criterion: (hand levels, marker levels, number of levels)}."""
    rows = []
    for name, (hand, auto, k) in pairs.items():
        rows.append({"criterion": name, "n": len(hand), "exact": exact_agreement(hand, auto),
                     "qwk": quadratic_weighted_kappa(hand, auto, k)})
    return rows
