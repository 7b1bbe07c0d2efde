"""How much a journey moves its goal: the conversion rates of the two arms, their difference, and a
95 % interval for it. Pure.

The interval is Newcombe's hybrid score interval (Newcombe 1998, method 10): each arm's Wilson score
interval combined into one for the difference. Unlike the Wald interval it stays inside [-1, 1], does
not collapse to a point when an arm converts nobody or everybody, and covers close to 95 % with the
small control arms a holdout of a few percent gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
"""The standard normal's 97.5th percentile."""


@dataclass(frozen=True)
class Difference:
    absolute: float
    relative: float | None
    """`absolute` over the control rate; None when the control rate is 0."""
    low: float
    high: float


def rate(converted: int, entered: int) -> float | None:
    return converted / entered if entered else None


def wilson(converted: int, entered: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (no continuity correction)."""
    p = converted / entered
    z2 = z * z
    centre = (p + z2 / (2 * entered)) / (1 + z2 / entered)
    half = z * math.sqrt(p * (1 - p) / entered + z2 / (4 * entered * entered)) / (1 + z2 / entered)
    return max(0.0, centre - half), min(1.0, centre + half)


def difference(treated: tuple[int, int], control: tuple[int, int], z: float = Z95) -> Difference | None:
    """(converted, entered) of each arm -> the treatment rate minus the control rate with its interval;
    None while an arm is empty."""
    (x1, n1), (x2, n2) = treated, control
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, d / p2 if p2 else None, low, high)
