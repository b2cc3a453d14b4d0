"""The committed suites are exactly what the catalog generates (reviewed data, diff-checked)."""

from expectations import build


def test_committed_suites_match_the_catalog():
    generated = build.build_all()
    committed = {p.stem for p in build.SUITES.glob("*.json")}
    assert committed == set(generated), "run `make suites` and review the diff"
    for name, suite in generated.items():
        assert (build.SUITES / f"{name}.json").read_text(encoding="utf-8") == build.render(suite), name


def test_org_units_csv_matches_its_generator(tmp_path, monkeypatch):
    from catalog import build_org_units

    monkeypatch.setattr(build_org_units, "HERE", tmp_path)
    build_org_units.main()
    for name in ("org_units.csv", "recipients.csv", "crosswalk.csv"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (build_org_units.Path(build_org_units.__file__).parent
                                                                  / name).read_text(encoding="utf-8")
