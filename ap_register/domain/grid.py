"""Places on the British National Grid: eastings and northings in whole metres, as GIAS gives each
establishment's and as the LA records a provider's sites. Distances between them are straight
lines, not journeys."""

from __future__ import annotations

import math

# The grid's extent over Great Britain, in metres: a figure outside it is a typing slip.
EASTING_RANGE = (0, 700_000)
NORTHING_RANGE = (0, 1_300_000)


def on_the_grid(easting: int | None, northing: int | None) -> bool:
    return (
        easting is not None
        and northing is not None
        and EASTING_RANGE[0] <= easting <= EASTING_RANGE[1]
        and NORTHING_RANGE[0] <= northing <= NORTHING_RANGE[1]
    )


def distance_km(a: tuple[int, int], b: tuple[int, int]) -> float:
    """The straight-line distance between two grid points, in kilometres."""
    return math.hypot(a[0] - b[0], a[1] - b[1]) / 1000


def metres(text: str | None) -> int | None:
    """An easting or a northing as GIAS writes it (whole metres, up to 7 digits); None when blank
    or not a figure."""
    value = (text or "").strip()
    return int(value) if value.isdigit() and len(value) <= 7 else None
