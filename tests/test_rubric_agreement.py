"""Agreement statistics: Cohen's quadratic weighted kappa against published worked values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qicourse.rubric import exact_agreement, quadratic_weighted_kappa

REF = json.loads((Path(__file__).parent / "reference" / "rubric_kappa_examples.json").read_text())


def _ratings(case: dict) -> tuple[list[int], list[int]]:
    if "pairs" in case:
        a, b = [], []
        for x, y, n in case["pairs"]:
            a += [x] * n
            b += [y] * n
        return a, b
    if "runs_a" in case:
        return ([v for v, n in case["runs_a"] for _ in range(n)], [v for v, n in case["runs_b"] for _ in range(n)])
    return case["a_list"], case["b_list"]


@pytest.mark.parametrize("case", REF["cases"], ids=[c["name"] for c in REF["cases"]])
def test_published_values(case):
    """Does our QWK reproduce the published worked examples?"""
    a, b = _ratings(case)
    assert quadratic_weighted_kappa(a, b, case["levels"]) == pytest.approx(case["qwk"], abs=case["tol"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=40))
def test_equals_the_covariance_form(pairs):
    """Is QWK equal to 2*cov / (var_a + var_b + (mean_a - mean_b)^2) (population moments), as it must be?"""
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    va = sum((x - ma) ** 2 for x in a) / n
    vb = sum((y - mb) ** 2 for y in b) / n
    cov = sum((x - ma) * (y - mb) for x, y in pairs) / n
    den = va + vb + (ma - mb) ** 2
    k = quadratic_weighted_kappa(a, b, 4)
    if den == 0:
        assert k is None
    else:
        assert k == pytest.approx(2 * cov / den, abs=1e-9)


def test_perfect_and_symmetric():
    """Is agreement perfect for identical ratings, and the statistic symmetric?"""
    a, b = [0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0]
    assert quadratic_weighted_kappa(a, a, 3) == pytest.approx(1.0)
    assert quadratic_weighted_kappa(a, b, 3) == pytest.approx(quadratic_weighted_kappa(b, a, 3))
    assert exact_agreement(a, b) == pytest.approx(4 / 6)


def test_undefined_and_bad_input():
    """Is kappa None when every rating is the same level, and are bad inputs refused clearly?"""
    assert quadratic_weighted_kappa([1, 1, 1], [1, 1, 1], 3) is None
    with pytest.raises(ValueError, match="different numbers"):
        quadratic_weighted_kappa([0, 1], [0], 2)
    with pytest.raises(ValueError, match="no items"):
        exact_agreement([], [])
    with pytest.raises(ValueError, match="non-negative integers"):
        quadratic_weighted_kappa([0, 1.5], [0, 1], 3)
