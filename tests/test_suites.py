"""The committed suites are exactly what the catalog generates (reviewed data, diff-checked)."""

from expectations import build


def test_committed_suites_match_the_catalog():
    generated = build.build_all()
    committed = {p.stem for p in build.SUITES.glob("*.json")}
    assert committed == set(generated), "run `make suites` and review the diff"
    for name, suite in generated.items():
        assert (build.SUITES / f"{name}.json").read_text(encoding="utf-8") == build.render(suite), name



def test_vietnamese_texts_write_numbers_the_vietnamese_way():
    """What a unit reads in Vietnamese ("what would pass") writes a decimal comma: 0,2, not 0.2."""
    import json
    import re

    texts = [m.get(k, "") for p in build.SUITES.glob("*.json")
             for e in json.loads(p.read_text(encoding="utf-8"))["expectations"]
             for m in [e.get("meta", {})] for k in ("expected_vi", "vi")]
    assert any("× 0,2" in t for t in texts)
    # a point followed by three digits is a thousands separator (10.000 dân), anything else a decimal point
    assert not [t for t in texts if re.search(r"\d\.(?!\d{3}(?:\D|$))\d", t)]
