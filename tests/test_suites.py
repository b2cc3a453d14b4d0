"""The committed suites are exactly what the catalog generates (reviewed data, diff-checked)."""

from expectations import build


def test_committed_suites_match_the_catalog():
    generated = build.build_all()
    committed = {p.stem for p in build.SUITES.glob("*.json")}
    assert committed == set(generated), "run `make suites` and review the diff"
    for name, suite in generated.items():
        assert (build.SUITES / f"{name}.json").read_text(encoding="utf-8") == build.render(suite), name

