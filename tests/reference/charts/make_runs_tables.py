"""Regenerate anhoej_critical_values.csv and ihi_runs_limits.csv without using qicourse.

ihi_runs_limits.csv holds the exact Swed-Eisenhart limits (2.5 % in each tail), not the IHI print.

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

# qicharts2 vignette (vignettes/qicharts2.html, rendered 2021-11-16 by R from qicharts2.Rmd),
# "Appendix 2: Critical values for longest run and number of crossings", n = 10..100.
VIGNETTE_LONGEST = {n: 6 if n < 12 else 7 if n < 23 else 8 if n < 46 else 9 if n < 91 else 10 for n in range(10, 101)}
VIGNETTE_CROSSINGS = dict(zip(range(10, 101), [
    2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8, 9, 9, 10,  # n = 10..29
    10, 11, 11, 11, 12, 12, 13, 13, 14, 14, 14, 15, 15, 16, 16, 17, 17, 17, 18, 18,  # 30..49
    19, 19, 20, 20, 21, 21, 21, 22, 22, 23, 23, 24, 24, 25, 25, 25, 26, 26, 27, 27,  # 50..69
    28, 28, 29, 29, 29, 30, 30, 31, 31, 32, 32, 33, 33, 34, 34, 34, 35, 35, 36, 36,  # 70..89
    37, 37, 38, 38, 39, 39, 39, 40, 40, 41, 41,  # 90..100
]))
# unaettie.com FAQ "Length of run in a run chart", Tables 1-2: the same longest-run limits
# (round(log2 n) + 3), printed independently for n = 10..109.
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
            assert VIGNETTE_LONGEST[n] == UNAETTIE_UL[n]  # the two published tables agree
            f.write(f"{n},{lr},{crossings_min(n)},{VIGNETTE_LONGEST[n]},{VIGNETTE_CROSSINGS[n]}\n")
    # exact limits only: the published IHI rows and their sources are in ihi_runs_published.csv
    with open(HERE / "ihi_runs_limits.csv", "w") as f:
        f.write("n_useful,runs_min,runs_max\n")
        for n in range(10, 21):
            lo, hi = ihi_limits(n)
            f.write(f"{n},{lo},{hi}\n")

if __name__ == "__main__":
    main()
