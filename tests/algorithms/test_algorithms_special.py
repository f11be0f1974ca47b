"""Special functions against identities that hold exactly (math's gamma, erf, lgamma)."""

from __future__ import annotations

import math

import pytest

from openee.algorithms import special


@pytest.mark.parametrize("x", [0.1, 0.5, 1.0, 2.5, 10.0, 40.0, -0.5, -2.5])
def test_digamma_is_the_derivative_of_lgamma(x: float) -> None:
    h = 1e-6
    derivative = (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)
    assert special.digamma(x) == pytest.approx(derivative, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("x", [0.5, 1.0, 3.0, 15.0])
def test_trigamma_is_the_derivative_of_digamma(x: float) -> None:
    h = 1e-5
    derivative = (special.digamma(x + h) - special.digamma(x - h)) / (2 * h)
    assert special.trigamma(x) == pytest.approx(derivative, rel=1e-6)


def test_known_values() -> None:
    assert special.digamma(1) == pytest.approx(-0.5772156649015329, abs=1e-14)
    assert special.trigamma(1) == pytest.approx(math.pi**2 / 6, rel=1e-13)
    assert math.isnan(special.digamma(0)) and math.isnan(special.trigamma(-2))


@pytest.mark.parametrize("y", [-0.999999, -0.5, 0.0, 0.3, 0.9, 0.99999999])
def test_erfinv_inverts_erf(y: float) -> None:
    assert math.erf(special.erfinv(y)) == pytest.approx(y, abs=1e-15)


@pytest.mark.parametrize("y", [1e-12, 0.01, 1.0, 1.5, 1.999])
def test_erfcinv_inverts_erfc(y: float) -> None:
    assert math.erfc(special.erfcinv(y)) == pytest.approx(y, rel=1e-12)


@pytest.mark.parametrize("x", [0.01, 0.5, 2.0, 7.0, 30.0])
def test_gammainc_identities(x: float) -> None:
    assert special.gammainc(1, x) == pytest.approx(1 - math.exp(-x), rel=1e-12)
    assert special.gammainc(0.5, x) == pytest.approx(math.erf(math.sqrt(x)), rel=1e-12)
    # P(a + 1, x) = P(a, x) - x^a e^-x / Gamma(a + 1)
    a = 2.5
    step = x**a * math.exp(-x) / math.gamma(a + 1)
    assert special.gammainc(a + 1, x) == pytest.approx(special.gammainc(a, x) - step, abs=1e-13)


@pytest.mark.parametrize(("a", "b", "x"), [(2.5, 1, 0.3), (1, 3, 0.2), (4, 4, 0.5), (0.5, 7, 0.9)])
def test_betainc_identities(a: float, b: float, x: float) -> None:
    assert special.betainc(a, 1, x) == pytest.approx(x**a, rel=1e-12)
    assert special.betainc(1, b, x) == pytest.approx(1 - (1 - x) ** b, rel=1e-12)
    assert special.betainc(a, b, x) == pytest.approx(1 - special.betainc(b, a, 1 - x), abs=1e-13)


@pytest.mark.parametrize("x", [0.5, 1.0, 3.7, 20.0])
def test_lanczos_sum_gives_gamma(x: float) -> None:
    t = x + special.LANCZOS_G + 0.5
    gamma = math.sqrt(2 * math.pi) / x * t ** (x + 0.5) * math.exp(-t) * special.lanczos(x)
    assert gamma == pytest.approx(math.gamma(x), rel=1e-13)
