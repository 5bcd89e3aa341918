"""The Balanced Scorecard sample world's calibration to the case study.
 (shared/seeds; docs/domain.md#users-satisfaction-and-usage and #cost-and-benefit):
- usage rate of the Single Window 2006-2011 exactly the seed's table (``USAGE_RATE_PCT``), then
  a slow approach to 100 %;
- satisfaction rising with usage after the 2006 launch, a dip in 2016 (4th-generation UNI-PASS
  went live) and a recovery (``satisfaction_target``);
- staged investment (establishment 2004-2006, expansions, 4th generation 2014-2016) overtaken
  by booked logistics-cost savings that grow with usage (``ledger``).
"""

from __future__ import annotations

# Percent of requirement applications lodged through the Single Window. 2006-2011: the seed.
USAGE_RATE_PCT = {
    2006: 4.3,
    2007: 3.9,
    2008: 19.3,
    2009: 67.2,
    2010: 91.6,
    2011: 97.3,
    2012: 98.1,
    2013: 98.6,
    2014: 98.9,
    2015: 99.1,
    2016: 99.2,
    2017: 99.4,
    2018: 99.5,
}


def usage_rate_pct(year: int) -> float:
    if year in USAGE_RATE_PCT:
        return USAGE_RATE_PCT[year]
    return 0.0 if year < 2006 else 99.5


def satisfaction_target(year: int) -> float:
    """Mean satisfaction (0-100) the sample world aims for: follows usage, dips in 2016."""
    base = 52.0 + 32.0 * usage_rate_pct(year) / 100.0 + 0.6 * max(year - 2011, 0)
    if year == 2016:
        base -= 12.0  # new system launched: transitory problems
    elif year == 2017:
        base -= 3.0
    return min(base, 95.0)
