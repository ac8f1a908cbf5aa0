"""Decimals: BSON Decimal128 values in the lake's decimal(38,9), exactly or not at all.

Why decimal(38,9) and one type only: 38 digits is Athena's (and Parquet decimal128's) maximum; 9
fractional digits cover money and doses with room to spare, leaving 29 integer digits - more than
int64's 19, so int64 widens into it losslessly. One type keeps the schema from churning as values
arrive. A Decimal128 that does not fit exactly (10+ significant fractional digits, 30+ integer
digits, NaN, Infinity) makes inference type its column `string` (the decimal's own text), so
conversion never rounds. Trailing zeros are not significant: 1.50 is stored as 1.500000000.

Decimal128.to_decimal is slow pure Python (~4 us); these helpers read the BID encoding directly.
"""

from __future__ import annotations

from decimal import Decimal

from bson import Decimal128

from kx_lake.lib.harmonize.types import DECIMAL

_D128_SIGN, _D128_INF, _D128_EXP_FORM = 1 << 63, 0x7800000000000000, 0x6000000000000000
_D128_MAX_COEFFICIENT = 10**34 - 1


def decimal128_value(v: Decimal128) -> Decimal:
    """Decimal128.to_decimal, 6x faster: builds the exact Decimal from its text (no context rounding)."""
    high, low = v.__getstate__()
    if (high & _D128_INF) == _D128_INF or (high & _D128_EXP_FORM) == _D128_EXP_FORM:
        return v.to_decimal()  # NaN, Infinity and the rare non-canonical encoding: the slow, exact path
    coefficient = ((high & 0x1FFFFFFFFFFFF) << 64) | low
    if coefficient > _D128_MAX_COEFFICIENT:
        return v.to_decimal()
    exponent = ((high & 0x7FFF800000000000) >> 49) - 6176
    return Decimal(f"{'-' if high & _D128_SIGN else ''}{coefficient}E{exponent}")


def decimal128_scaled(v: Decimal128, scale: int, precision: int) -> int | None:
    """v * 10**scale as an exact int if v fits decimal(precision, scale) exactly, else None.

    Works on the BID encoding directly (no Decimal object): this runs once per value.
    """
    high, low = v.__getstate__()
    if (high & _D128_INF) == _D128_INF:
        return None  # NaN, Infinity
    if (high & _D128_EXP_FORM) == _D128_EXP_FORM:
        return 0  # the non-canonical encoding: its coefficient is zero by definition
    coefficient = ((high & 0x1FFFFFFFFFFFF) << 64) | low
    if coefficient > _D128_MAX_COEFFICIENT or coefficient == 0:
        return 0
    shift = ((high & 0x7FFF800000000000) >> 49) - 6176 + scale
    if shift >= 0:
        if shift > precision:
            return None
        scaled = coefficient * _POW10[shift]
    else:
        if shift < -34:
            return None
        scaled, rest = divmod(coefficient, _POW10[-shift])
        if rest:
            return None
    if scaled >= _POW10[precision]:
        return None
    return -scaled if high & _D128_SIGN else scaled


_POW10 = [10**i for i in range(40)]


def decimal_fits(value: Decimal128 | Decimal) -> bool:
    """Whether a decimal is exactly representable in decimal(38,9) (trailing zeros don't count)."""
    d = decimal128_value(value) if type(value) is Decimal128 else value
    if not d.is_finite():
        return False
    _, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    significant = len(digits)
    while exponent < 0 and significant > 1 and digits[significant - 1] == 0:
        significant, exponent = significant - 1, exponent + 1
    if not any(digits):
        return True
    return -exponent <= DECIMAL.scale and significant + exponent <= DECIMAL.integer_digits
