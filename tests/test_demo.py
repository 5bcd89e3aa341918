"""The demo's sample world (the Makefile's DEMO_GENERATE): continuous monthly series, so no
month holds only a few declarations spilled over from a sampled neighbour (which made the C/S
hit rate jump to 100 % when the demo sampled one day a quarter)."""

from __future__ import annotations

import re
import shlex

from tests.conftest import PROJECT


def demo_days():
    from ingest.cli import build_parser
    from ingest.sample_world.clearance import sample_days

    text = (PROJECT / "Makefile").read_text().replace("\\\n", " ")
    args = re.search(r"^DEMO_GENERATE := (.*)$", text, re.M).group(1)
    parsed = build_parser().parse_args(["generate", *shlex.split(args)])
    return sample_days(parsed.start, parsed.days, parsed.days_per_month, parsed.month_step)


def test_the_demo_samples_every_month_from_2006_to_2018():
    days = demo_days()
    months = sorted({(d.year, d.month) for d in days})
    assert months[0] == (2006, 1) and months[-1] == (2018, 12)
    assert months == [(y, m) for y in range(2006, 2019) for m in range(1, 13)]
