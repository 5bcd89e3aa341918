"""The sample world: what ``swpm generate`` writes into landing/, one generator per source kind.

Each generator takes the same :class:`SampleSpec` and writes its nightly files into landing/
in the format the real source delivers, deterministically (same spec, same bytes) and without
rewriting files that already exist. A new source kind adds its generator to ``GENERATORS``.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.sample_world import clearance, itsm, ledger, survey, usage
from ingest.sample_world.spec import Generated, SampleSpec


def _clearance(spec: SampleSpec, progress=None) -> Generated:
    written = clearance.generate_days(spec.landing, spec.days, spec.declarations_per_day, spec.seed, progress)
    return Generated(
        "clearance",
        2 * len(written),
        sum(w.declarations_count + w.events_count for w in written),
        f"{sum(w.declarations_count for w in written)} declarations, {sum(w.events_count for w in written)} events",
    )


def _survey(spec: SampleSpec, progress=None) -> Generated:
    return survey.generate(spec, progress)


def _usage(spec: SampleSpec, progress=None) -> Generated:
    return usage.generate(spec, progress)


def _ledger(spec: SampleSpec, progress=None) -> Generated:
    return ledger.generate(spec, progress)


def _itsm(spec: SampleSpec, progress=None) -> Generated:
    written = itsm.generate(spec.landing, spec.start, spec.end, spec.seed)
    rows = {k: sum(w.rows.get(k, 0) for w in written) for k in ("incidents", "service_requests", "edocs")}
    return Generated(
        "itsm",
        sum(len(w.rows) for w in written),
        sum(rows.values()),
        f"{rows['incidents']} incident updates, {rows['service_requests']} service requests, "
        f"{rows['edocs']} e-documents ({itsm.SAMPLE_INSTANCE} instance, one export a year)",
    )


# name -> generator(spec, progress) ; run in this order.
GENERATORS: dict[str, Callable[..., Generated]] = {
    "clearance": _clearance,
    "survey": _survey,
    "usage": _usage,
    "ledger": _ledger,
    "itsm": _itsm,
}


def generate_all(spec: SampleSpec, only: list[str] | None = None, progress=None) -> list[Generated]:
    spec.landing.mkdir(parents=True, exist_ok=True)
    return [gen(spec, progress) for name, gen in GENERATORS.items() if not only or name in only]
