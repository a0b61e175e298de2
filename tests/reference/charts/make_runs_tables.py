"""Regenerate anhoej_critical_values.csv and ihi_runs_limits.csv without using qicourse.

Independent of the package code on purpose: Anhøj limits from the definitions with exact
fractions; IHI limits by brute-force enumeration of every arrangement of n1 points above and
n2 below the median (n = 10..20), so the package's closed-form runs distribution is checked
against counting. Columns `published_*` hold values printed in a cited source (blank if none).
Run: python tests/reference/charts/make_runs_tables.py
"""

from fractions import Fraction
from itertools import combinations
from math import comb, log2
from pathlib import Path

HERE = Path(__file__).parent

# anchors.md B2 (qicharts2 formulas, table for n = 10..40): n -> (longest_run_max, crossings_min)
ANCHORS_B2 = dict(
    (int(n), tuple(int(v) for v in lc.split("/")))
    for n, lc in (item.split(":") for item in (
        "10:6/2 11:6/2 12:7/3 13:7/3 14:7/4 15:7/4 16:7/4 17:7/5 18:7/5 19:7/6 20:7/6 21:7/6 "
        "22:7/7 23:8/7 24:8/8 25:8/8 26:8/8 27:8/9 28:8/9 29:8/10 30:8/10 31:8/11 32:8/11 "
        "33:8/11 34:8/12 35:8/12 36:8/13 37:8/13 38:8/14 39:8/14 40:8/14").split())
)
# unaettie.com FAQ "Length of run in a run chart", Tables 1-2: upper limit of the longest run
# (round(log2 n) + 3) for n = 10..100 (the published table goes to 109).
UNAETTIE_UL = {n: 6 if n < 12 else 7 if n < 23 else 8 if n < 46 else 9 if n < 91 else 10 for n in range(10, 101)}


def crossings_min(n):
    """qbinom(0.05, n - 1, 0.5): smallest k with P(X <= k) >= 0.05, exactly."""
    size, cum = n - 1, Fraction(0)
    for k in range(size + 1):
        cum += Fraction(comb(size, k), 2**size)
        if cum >= Fraction(1, 20):
            return k


def runs_counts_bruteforce(n):
    n1 = n // 2
    counts = {}
    for above in combinations(range(n), n1):
        s = [0] * n
        for i in above:
            s[i] = 1
        r = 1 + sum(s[i] != s[i - 1] for i in range(1, n))
        counts[r] = counts.get(r, 0) + 1
    return counts, comb(n, n1)


def ihi_limits(n):
    counts, total = runs_counts_bruteforce(n)
    tail = Fraction(1, 40)  # 2.5 % in each tail
    lower = max(r for r in range(2, n + 2) if Fraction(sum(c for k, c in counts.items() if k < r), total) <= tail)
    upper = min(u for u in range(1, n + 1) if Fraction(sum(c for k, c in counts.items() if k > u), total) <= tail)
    return lower, upper


def main():
    with open(HERE / "anhoej_critical_values.csv", "w") as f:
        f.write("n_useful,longest_run_max,crossings_min,published_longest_run_max,published_crossings_min\n")
        for n in range(10, 101):
            lr = round(log2(n)) + 3
            pub = ANCHORS_B2.get(n)
            f.write(f"{n},{lr},{crossings_min(n)},{UNAETTIE_UL[n]},{pub[1] if pub else ''}\n")
    # Balestracci, Quality Digest (Oct 2008) "An Underrated Test for Run Charts", figure 2: 16 points -> 5-12 runs
    published = {16: (5, 12)}
    with open(HERE / "ihi_runs_limits.csv", "w") as f:
        f.write("n_useful,runs_min,runs_max,published_runs_min,published_runs_max\n")
        for n in range(10, 21):
            lo, hi = ihi_limits(n)
            p = published.get(n, ("", ""))
            f.write(f"{n},{lo},{hi},{p[0]},{p[1]}\n")


if __name__ == "__main__":
    main()
