"""Special functions that Python's math module lacks: digamma, trigamma, erfInv, gammainc, lanczos.

Pure Python (no scipy): series and continued fractions from Numerical Recipes, and the Lanczos
sum of Apache Commons Math (g = 607/128), which Earth Engine's `Number.lanczos` exposes.
"""

from __future__ import annotations

import math

from openee.raster.special import LANCZOS_COEFFICIENTS, LANCZOS_G
from openee.reducers.pvalue import betainc

__all__ = [
    "LANCZOS_G",
    "betainc",
    "digamma",
    "erfcinv",
    "erfinv",
    "gammainc",
    "lanczos",
    "trigamma",
]

# Apache Commons Math's Lanczos coefficients (Gamma.LANCZOS) for g = 607/128.
_LANCZOS = LANCZOS_COEFFICIENTS


def lanczos(x: float) -> float:
    """The Lanczos sum: Gamma(x) = sqrt(2 pi) / x * t^(x + 0.5) * e^-t * lanczos(x), t = x + g + 0.5."""
    total = 0.0
    for i in range(len(_LANCZOS) - 1, 0, -1):
        if x + i == 0:  # a pole: Infinity, as Earth Engine answers (ee_number_lanczos.py)
            return math.inf
        total += _LANCZOS[i] / (x + i)
    return total + _LANCZOS[0]


def digamma(x: float) -> float:
    """The logarithmic derivative of the gamma function."""
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x <= 0 and x == math.floor(x):
        return math.nan
    result = 0.0
    if x < 0:
        # Reflection: psi(1 - x) - psi(x) = pi cot(pi x).
        return digamma(1 - x) - math.pi / math.tan(math.pi * x)
    while x < 12:
        result -= 1 / x
        x += 1
    inv = 1 / x
    inv2 = inv * inv
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return result + math.log(x) - 0.5 * inv - series


def trigamma(x: float) -> float:
    """The derivative of the digamma function."""
    if math.isnan(x) or (x <= 0 and x == math.floor(x)):
        return math.nan
    if x < 0:
        # Reflection: psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x).
        return -trigamma(1 - x) + (math.pi / math.sin(math.pi * x)) ** 2
    result = 0.0
    while x < 12:
        result += 1 / (x * x)
        x += 1
    inv = 1 / x
    inv2 = inv * inv
    series = inv * (1 + inv * (0.5 + inv * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)))))
    return result + series


def erfinv(y: float) -> float:
    """The inverse error function: erf(erfinv(y)) == y for y in (-1, 1)."""
    if math.isnan(y) or y < -1 or y > 1:
        return math.nan
    if y == 1:
        return math.inf
    if y == -1:
        return -math.inf
    # Giles' single-precision approximation, then Newton steps on erf.
    w = -math.log((1 - y) * (1 + y))
    if w < 5:
        w -= 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
            p = c + p * w
    else:
        w = math.sqrt(w) - 3
        p = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
            p = c + p * w
    x = p * y
    for _ in range(3):
        err = math.erf(x) - y
        x -= err / (2 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


def erfcinv(y: float) -> float:
    """The inverse complementary error function: erfc(erfcinv(y)) == y for y in (0, 2)."""
    if math.isnan(y) or y < 0 or y > 2:
        return math.nan
    if y == 0:
        return math.inf
    if y == 2:
        return -math.inf
    x = erfinv(1 - y)
    # Refine on erfc directly, which keeps precision for y near 0.
    for _ in range(3):
        if not math.isfinite(x):
            break
        err = math.erfc(x) - y
        x += err / (2 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


def gammainc(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x)."""
    if math.isnan(a) or math.isnan(x) or a <= 0 or x < 0:
        return math.nan
    if x == 0:
        return 0.0
    if math.isinf(x):
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        # Series: P = e^-x x^a / Gamma(a + 1) * sum x^n / ((a + 1) ... (a + n)).
        term = total = 1.0 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return total * math.exp(log_prefix)
    # Continued fraction for Q = 1 - P (modified Lentz).
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return 1.0 - math.exp(log_prefix) * h
