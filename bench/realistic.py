"""How often validation warns when nothing is wrong, on real-shaped data.

`python -m bench.realistic [--scale 0.25] [--typos 0.02] [--seed N]` writes a national catalog
(bench/national.py) and, for every commune, two six-monthly reports (2025H2 then 2026H1) whose
figures have the shape of real ones:

- populations heavy-tailed (log-normal, median ≈ 20,000, a long urban tail up to ≈ 250,000);
- staffing and beds per 10,000 varying between communes (log-normal: a commune with a district
  hospital has three times the beds of one without), changing little between halves (a doctor
  more or less, now and then a new clinic);
- events (births, deaths, visits, screenings, check-ups) drawn as Poisson / binomial counts
  around rates that differ by commune and move from one half to the next (campaigns, seasons);
- stocks (insured people, e-health books, people under management) growing a few percent;
- numbers typed as officers type them (Vietnamese separators in CSV).

Each period goes through the real pipeline (parse → Great Expectations validation → load) on a
real DuckDB file, then the script prints the share of accepted reports that carry a warning although
nothing is wrong (target: under 10 %), which rules and elements raise them, and — with --typos —
how many deliberately mistyped figures (a count typed ×10) were caught.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from baocao import calendar
from baocao.resources import FixedCatalog, live
from baocao.services import cycles, process
from baocao.settings import settings
from bench import national
from testing import demo

PERIODS = ("2025H2", "2026H1")
DATASET = national.DATASET


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, p, target = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= target:
            return k
        k += 1


def _binom(rng: random.Random, n: int, p: float) -> int:
    p = min(max(p, 0.0), 1.0)
    if n > 60:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    return sum(rng.random() < p for _ in range(n))


def unit_profile(code: str, seed: int) -> dict:
    """A commune's own, stable characteristics."""
    rng = random.Random(f"{seed}:profile:{code}")
    pop = min(max(rng.lognormvariate(math.log(20000), 0.65), 2500), 250000)
    hospital = rng.random() < 0.15
    return {
        "pop": pop,
        "doctors_10k": rng.lognormvariate(math.log(9.5), 0.3) * (1.8 if hospital else 1.0),
        "nurses_10k": rng.lognormvariate(math.log(17), 0.3) * (1.6 if hospital else 1.0),
        "beds_10k": rng.lognormvariate(math.log(26), 0.35) * (2.5 if hospital else 1.0),
        "pharm_10k": rng.lognormvariate(math.log(1.2), 0.35),
        "birth_rate": rng.lognormvariate(math.log(0.0075), 0.2),      # per half-year
        "u5_mort": rng.lognormvariate(math.log(0.02), 0.35),          # per live birth
        "insured": rng.uniform(0.85, 0.985),
        "ehr": rng.uniform(0.45, 0.85),
        "managed": rng.uniform(0.80, 0.96),
        "checkup": rng.uniform(0.25, 0.55),
        "active": rng.uniform(0.25, 0.40),
        "visits": rng.lognormvariate(math.log(0.6), 0.25),            # insured visits per person per half
        "station_share": rng.uniform(0.12, 0.30),
        "stunting": rng.lognormvariate(math.log(0.16), 0.25),
        "obesity": rng.lognormvariate(math.log(0.09), 0.3),
        "epi": rng.uniform(0.90, 0.99),
        "d_station": rng.choice([1, 1, 2, 2, 3]),
        "flags": {k: int(rng.random() < p) for k, p in (("STATION_NCD", 0.9), ("STATION_STANDARD", 0.7),
                  ("STATION_HAS_MIDWIFE", 0.85), ("STATION_HAS_TRAD_MED", 0.6), ("COMMUNE_NATIONAL_CRITERIA", 0.8))},
    }


def period_values(prof: dict, code: str, step: int, seed: int, prev: dict | None) -> dict[str, int]:
    """The commune's figures for the `step`-th half-year (0, 1, …), following on from `prev`."""
    rng = random.Random(f"{seed}:values:{code}:{step}")
    pop = round(prof["pop"] * (1.005 + rng.gauss(0, 0.004)) ** step)

    def staff(key: str, rate: float) -> int:
        base = max(0, round(prof["pop"] * rate / 10000))
        if prev is None:
            return base
        v = prev[key]
        r = rng.random()
        if r < 0.20:
            v += rng.choice([-1, 1])
        elif r < 0.23:
            v = round(v * rng.uniform(1.1, 1.25))      # a clinic opens, a recruitment round
        return max(0, v)

    doctors = max(1, staff("DOCTORS", prof["doctors_10k"]))
    beds = staff("BEDS", prof["beds_10k"])
    births = _poisson(rng, pop * prof["birth_rate"] * rng.lognormvariate(0, 0.06))
    d_u5 = _poisson(rng, births * prof["u5_mort"])
    measured = _poisson(rng, pop * 0.07 * rng.lognormvariate(0, 0.12))
    screened = _poisson(rng, pop * 0.3 * rng.lognormvariate(0, 0.15))
    visits = _poisson(rng, pop * prof["visits"] * rng.lognormvariate(0, 0.08))

    def stock(key: str, share: float, growth: float) -> int:
        v = round(pop * share) if prev is None else round(prev[key] * (1 + growth + rng.gauss(0, 0.01)))
        return min(v, pop)

    values = {
        "POP": pop, "POP_INSURED": stock("POP_INSURED", prof["insured"], 0.006),
        "DOCTORS": doctors, "DOCTORS_STATION": min(doctors, prof["d_station"]),
        "NURSES": staff("NURSES", prof["nurses_10k"]), "MIDWIVES_STATION": random.Random(f"{seed}:{code}").randint(0, 2),
        "PHARMACISTS_UNIV": staff("PHARMACISTS_UNIV", prof["pharm_10k"]), "BEDS": beds,
        "BEDS_PRIVATE": min(beds, round(beds * 0.06)), "LIVE_BIRTHS": births,
        "DEATHS_U1": _binom(rng, d_u5, 0.7), "DEATHS_U5": d_u5,
        "EPI_ELIGIBLE": births, "EPI_FULL": _binom(rng, births, prof["epi"]),
        "CHILDREN_U5_MEASURED": measured, "CHILDREN_U5_STUNTED": _binom(rng, measured, prof["stunting"]),
        "ADULTS_SCREENED": screened, "ADULTS_OBESE": _binom(rng, screened, prof["obesity"]),
        "PEOPLE_HEALTH_MANAGED": stock("PEOPLE_HEALTH_MANAGED", prof["managed"], 0.01),
        "PEOPLE_EHR": stock("PEOPLE_EHR", prof["ehr"], 0.05),
        "PEOPLE_CHECKUP": min(pop, _poisson(rng, pop * prof["checkup"] * rng.lognormvariate(0, 0.12))),
        "PEOPLE_ACTIVE": stock("PEOPLE_ACTIVE", prof["active"], 0.01),
        "INSURED_VISITS_TOTAL": visits, "INSURED_VISITS_STATION": _binom(rng, visits, prof["station_share"]),
        "STATION_HAS_DOCTOR": 1, **prof["flags"],
    }
    return values


def write_period(inbox: Path, cat, codes: list[str], period: str, step: int, seed: int, previous: dict,
                 typo_rate: float) -> tuple[dict, dict]:
    """One CSV report per commune; returns (values per unit, typos: unit -> element)."""
    per = calendar.parse_period(period)
    deadline = calendar.deadline(per, calendar.DeadlineRule.from_dict(cat.datasets[DATASET].deadline))
    out, typos = {}, {}
    for code in codes:
        prof = unit_profile(code, seed)
        values = period_values(prof, code, step, seed, previous.get(code))
        out[code] = values
        rng = random.Random(f"{seed}:typo:{code}:{step}")
        typed = dict(values)
        if step > 0 and rng.random() < typo_rate:
            el = rng.choice(["DOCTORS", "NURSES", "BEDS", "POP"])
            typed[el] = values[el] * 10
            typos[code] = el
        urng = random.Random(f"{seed}:{period}:{code}")
        folder = inbox / code
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"XA_6T_{code}_{period}.csv"
        demo.write_csv(path, code, period, DATASET, typed, demo._tasks(urng, cat, DATASET, code), demo._texts(urng))
        at = max(deadline - timedelta(days=urng.randint(0, 6), hours=urng.randint(1, 8)),
                 calendar.open_at(per, calendar.DeadlineRule.from_dict(cat.datasets[DATASET].deadline))
                 + timedelta(hours=urng.randint(8, 16))).timestamp()
        os.utime(path, (at, at))
    return out, typos


def _band_only(folder: Path) -> None:
    """The history rule as it was before the cycle's changes and Poisson noise were considered:
    the previous value against a fixed band only (for comparison)."""
    import yaml

    path = folder / "validation_rules.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules["history"].update(poisson_z=0, cycle_changes=False)
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")


def run(scale: float, seed: int, typo_rate: float, keep: bool = False, band_only: bool = False) -> dict:
    import catalog as catalog_mod
    from warehouse import catalog_load, models

    tmp = Path(tempfile.mkdtemp(prefix="baocao-realistic-"))
    res = None
    try:
        cat = national.write_catalog(tmp / "catalog", scale, seed)
        if band_only:
            _band_only(tmp / "catalog")
            catalog_mod.load.cache_clear()  # load() caches per folder
            cat = catalog_mod.load(tmp / "catalog")
            assert cat.rules["history"]["cycle_changes"] is False
        s = settings(tmp / "home")
        res = live(s, catalog=FixedCatalog(cat), sender=None)
        con = res.con()
        con.execute("begin transaction")
        catalog_load.load_catalog(con, cat)
        models.build(con, layers=("core",))
        con.execute("commit")
        codes = national.communes(cat)
        previous: dict = {}
        report = {"communes": len(codes), "periods": {}}
        for step, period in enumerate(PERIODS):
            cycles.open_cycle(res, period, datasets=[DATASET])
            previous, typos = write_period(s.inbox, cat, codes, period, step, seed, previous, typo_rate)
            t0 = time.perf_counter()
            process.collect(res)
            records = process.process(res)
            seconds = time.perf_counter() - t0
            clean = [r for r in records if r.unit_code not in typos]
            accepted = [r for r in clean if r.status.startswith("accepted")]
            warned = [r for r in accepted if r.n_warnings]
            rules = Counter((f.rule_id, f.element_code) for r in warned for f in r.findings if f.severity == "warning")
            caught = sum(any(f.element_code == el and f.severity == "warning" for f in next(
                r for r in records if r.unit_code == u).findings) for u, el in typos.items())
            report["periods"][period] = {
                "files": len(records), "clean": len(clean), "accepted": len(accepted), "warned": len(warned),
                "rejected_clean": [(r.unit_code, [f.rule_id for f in r.findings if f.severity == "error"])
                                   for r in clean if r.status == "rejected"][:5],
                "share": len(warned) / len(accepted) if accepted else float("nan"), "rules": rules.most_common(8),
                "typos": len(typos), "typos_caught": caught, "seconds": seconds}
        res.close()
        return report
    finally:
        if res is not None:
            res.close()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.25, help="share of the 3,321 communes (default 0.25)")
    ap.add_argument("--seed", type=int, default=national.SEED)
    ap.add_argument("--typos", type=float, default=0.02, help="share of units with one count typed ×10 (2nd period)")
    ap.add_argument("--band-only", action="store_true",
                    help="history rule without the cycle's changes and Poisson noise (the rule before, for comparison)")
    args = ap.parse_args(argv)
    rep = run(args.scale, args.seed, args.typos, band_only=args.band_only)
    load = os.getloadavg()
    print(f"# realistic validation{' (history: band only)' if args.band_only else ''}: {rep['communes']} communes, "
          f"periods {', '.join(PERIODS)}, seed {args.seed}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for period, p in rep["periods"].items():
        print(f"{period}: {p['files']} files ({p['clean']} without a planted typo), {p['accepted']} accepted, "
              f"{p['warned']} of them with a warning: {100 * p['share']:.1f} % (target < 10 %); "
              f"pipeline {p['seconds']:.1f} s")
        if p["rules"]:
            print("   warnings where nothing is wrong, by rule and element: "
                  + ", ".join(f"{r}/{e} {n}" for (r, e), n in p["rules"]))
        if p["rejected_clean"]:
            print(f"   clean reports rejected (should be none): {p['rejected_clean']}")
        if p["typos"]:
            print(f"   planted typos (a count ×10): {p['typos']}, warned on that element: {p['typos_caught']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
