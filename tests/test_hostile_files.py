"""Hostile and broken submissions (tests/corpus.py): each file gets its own located, bilingual
finding with a hint of what would pass, and the clean ones read the same values however they were
typed, encoded or normalised. Plain-function tests: no warehouse, no Prefect."""

from __future__ import annotations

import io
import random
import unicodedata
import zipfile
from pathlib import Path

import pytest

import catalog as catalog_mod
from intake import form, parse
from intake.parse import parse_file
from intake.template import build_template
from tests.corpus import CASES, cp1258_bytes, csv_rows, csv_text, write_corpus

CAT = catalog_mod.load()
FINDING_CASES = sorted(n for n in CASES if not n.startswith(("clean", "csv_utf", "csv_cp", "csv_semi", "csv_named",
                                                             "xlsx_named", "vn_", "nfd_", "inserted_row")))
CLEAN_CASES = sorted(set(CASES) - set(FINDING_CASES))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def parsed(corpus):
    return {name: parse_file(path, inbox_unit=exp["inbox_unit"], cat=CAT) for name, (path, exp) in corpus.items()}


def test_every_case_is_classified(corpus):
    assert set(corpus) == set(CASES)
    for name, (_path, exp) in corpus.items():
        assert (exp["rule_id"] is None) == (name in CLEAN_CASES), name


@pytest.mark.parametrize("name", FINDING_CASES)
def test_case_gets_its_located_finding(name, corpus, parsed):
    _path, exp = corpus[name]
    p = parsed[name]
    where = [(f.rule_id, f.severity, f.sheet, f.cell) for f in p.findings]
    assert (exp["rule_id"], exp["severity"], exp["sheet"], exp["cell"]) in where, where
    for cell in exp.get("also_cells", []):
        assert (exp["rule_id"], "error", exp["sheet"], cell) in where
    # one cause, one rule: nothing else is reported as an error
    assert {f.rule_id for f in p.findings if f.severity == "error"} == {exp["rule_id"]}
    assert p.has_errors
    if exp["rule_id"][0] == "P" or exp["rule_id"] in ("S01", "S02", "S03", "S04", "S05", "S06", "S09"):
        assert p.values == [] and p.tasks == []  # nothing is read from a file that is not the form
    for f in p.findings:
        assert f.message_vi and f.message_en and f.message_vi != f.message_en
        assert f.expected_vi and f.expected_en, f"{name}: no hint of what would pass"
        assert f.value_raw is not None
        if f.sheet is None:  # file-level: the location is the file itself
            assert f.value_raw, name
        assert f.line("vi") and f.line("en")


def test_messages_are_specific_to_their_cause(parsed):
    """Different causes never share a message (the CSV twin of a workbook case may)."""
    first = {name: parsed[name].findings[0] for name in FINDING_CASES if name != "csv_text_in_number"}
    by_message: dict[str, list[str]] = {}
    for name, f in first.items():
        by_message.setdefault(f.message_en, []).append(name)
        by_message.setdefault(f.message_vi, []).append(name)
    assert {m: n for m, n in by_message.items() if len(n) > 1} == {}


def test_file_level_messages_name_what_the_file_is(parsed):
    assert "PDF" in parsed["pdf_as_xlsx"].findings[0].message_en
    assert "PNG" in parsed["png_as_xlsx"].findings[0].message_vi
    assert "HTML" in parsed["html_as_xls"].findings[0].message_en
    assert "XA_6T_bao_cao.xlsx" in parsed["zip_holding_xlsx"].findings[0].message_vi
    assert "mật khẩu" in parsed["encrypted"].findings[0].message_vi
    assert ".xls" in parsed["legacy_xls"].findings[0].message_en
    assert "truncated" in parsed["truncated"].findings[0].message_en
    assert "zip bomb" in parsed["zip_bomb"].findings[0].message_en
    assert "xl/media/image1.png" in parsed["zip_bomb"].findings[0].value_raw
    assert "XFD1048576" in parsed["giant_sheet"].findings[0].message_vi


@pytest.mark.parametrize("name", CLEAN_CASES)
def test_clean_case_reads_every_value(name, corpus, parsed):
    _path, exp = corpus[name]
    p = parsed[name]
    assert p.findings == []
    assert (p.unit_code, p.period, p.dataset_code, p.template_version) == ("LD.24781", "2026H1", "XA_6T", "baocao-1")
    assert {v["element_code"]: v["value"] for v in p.values} == exp["values"]
    assert {f"{t['plan_code']}/{t['task_no']}": t["status"] for t in p.tasks} == exp["tasks"]
    assert {t["section"]: t["text"] for t in p.texts} == exp["texts"]
    for t in p.texts + [{"text": t["status_raw"]} for t in p.tasks] + [{"text": t["note"]} for t in p.tasks]:
        assert unicodedata.is_normalized("NFC", t["text"])
    for code, cell in exp.get("value_cells", {}).items():
        assert next(v["cell"] for v in p.values if v["element_code"] == code) == cell


def test_formats_and_encodings_read_identically(parsed):
    def content(p):
        values = {v["element_code"]: (v["value"], v["value_raw"]) for v in p.values}
        tasks = [(t["plan_code"], t["task_no"], t["status"], t["status_raw"], t["note"]) for t in p.tasks]
        return values, tasks, p.texts

    csvs = ["csv_utf8_bom", "csv_utf16", "csv_cp1258", "csv_semicolon", "csv_named_xlsx"]
    assert all(content(parsed[n]) == content(parsed["csv_utf8_bom"]) for n in csvs)
    assert parsed["csv_utf16"].file_format == parsed["csv_named_xlsx"].file_format == "csv"
    assert parsed["xlsx_named_csv"].file_format == "xlsx"
    # the workbook and the CSV agree on everything but where the values were typed
    assert [t[:3] for t in content(parsed["clean_xlsx"])[1]] == [t[:3] for t in content(parsed["csv_cp1258"])[1]]
    assert parsed["clean_xlsx"].texts == parsed["csv_cp1258"].texts


def test_cp1258_file_really_holds_combining_tone_marks(corpus):
    raw = corpus["csv_cp1258"][0].read_bytes()
    text = raw.decode("cp1258")
    assert not unicodedata.is_normalized("NFC", text)
    assert "\u0301" in text or "\u0323" in text
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_vn_separators_as_typed(corpus, parsed):
    raw = {v["element_code"]: v["value_raw"] for v in parsed["vn_separators"].values}
    assert raw["POP"] == "12.345"
    assert raw["POP_INSURED"] == "11 000"
    assert raw["ADULTS_SCREENED"] == "3\u00a0000"        # no-break space
    assert raw["PEOPLE_HEALTH_MANAGED"] == "10\u202f000"  # narrow no-break space
    assert raw["PEOPLE_EHR"] == "8\u2009000"              # thin space
    values = {v["element_code"]: v["value"] for v in parsed["vn_separators"].values}
    assert [values[c] for c in ("POP", "POP_INSURED", "ADULTS_SCREENED", "PEOPLE_HEALTH_MANAGED", "PEOPLE_EHR")] == [
        12345, 11000, 3000, 10000, 8000]


def test_nfd_text_is_recognised_and_stored_nfc(corpus, parsed):
    with zipfile.ZipFile(corpus["nfd_text"][0]) as zf:  # the file really is decomposed
        xml = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert unicodedata.normalize("NFD", "Hoàn thành").encode() in xml
    p = parsed["nfd_text"]
    assert p.tasks[0]["status"] == "hoan_thanh" and p.tasks[0]["status_raw"] == "Hoàn thành"
    assert p.texts == parsed["clean_xlsx"].texts


def test_the_hostile_files_stay_small(corpus):
    assert corpus["zip_bomb"][0].stat().st_size < 200_000
    with zipfile.ZipFile(corpus["zip_bomb"][0]) as zf:
        assert sum(i.file_size for i in zf.infolist()) > parse.MAX_UNZIPPED_BYTES
    assert corpus["giant_sheet"][0].stat().st_size < 50_000
    assert corpus["too_large"][0].stat().st_size > parse.MAX_FILE_BYTES


def test_other_unit_without_an_inbox_is_not_s03(corpus):
    p = parse_file(corpus["other_unit"][0], cat=CAT)
    assert p.findings == [] and p.unit_code == corpus["other_unit"][1]["file_unit"]


@pytest.mark.parametrize(("unit", "period"), [("LD.SYT", "2026H1"), ("LD.CTK", "2026")])
def test_corpus_for_other_forms(unit, period, tmp_path):
    """Department and statistics forms: percents, decimals (74,5), hundreds of tasks, no tasks."""
    for name, (path, exp) in write_corpus(tmp_path, unit, period).items():
        p = parse_file(path, inbox_unit=unit, cat=CAT)
        if exp["rule_id"] is None:
            assert p.findings == [], name
            assert {v["element_code"]: v["value"] for v in p.values} == exp["values"], name
        else:
            assert (exp["rule_id"], exp["sheet"], exp["cell"]) in [(f.rule_id, f.sheet, f.cell) for f in p.findings], name


# ------------------------------------------------------------------ cases beyond the corpus

def _save(wb, path: Path) -> Path:
    wb.save(path)
    return path


def test_formula_after_self_closing_cells_is_located(tmp_path):
    """Flag rows have an empty unit cell (<c r="C29" .../>) right before the value cell."""
    wb = build_template("LD.24781", "2026H1", "XA_6T", cat=CAT)
    row = form.HEADER_ROW + 1 + CAT.datasets["XA_6T"].elements.index("STATION_NCD")
    wb[form.SHEET_DATA][f"D{row}"] = "=1+0"  # a real formula (templates write text as text)
    p = parse_file(_save(wb, tmp_path / "f.xlsx"), cat=CAT)
    assert [(f.rule_id, f.cell, f.value_raw) for f in p.findings] == [("V02", f"D{row}", "=1+0")]


def test_flags_accept_words_and_booleans(tmp_path):
    wb = build_template("LD.24781", "2026H1", "XA_6T", cat=CAT,
                        values={"STATION_NCD": "Có", "STATION_STANDARD": "không", "STATION_HAS_DOCTOR": True,
                                "POP": True})
    p = parse_file(_save(wb, tmp_path / "f.xlsx"), cat=CAT)
    values = {v["element_code"]: v["value"] for v in p.values}
    assert (values["STATION_NCD"], values["STATION_STANDARD"], values["STATION_HAS_DOCTOR"]) == (1, 0, 1)
    assert [(f.rule_id, f.message_en) for f in p.findings] == [("V01", "The cell holds TRUE/FALSE, not a number")]


def test_sheet_names_in_nfd_and_other_case(tmp_path):
    wb = build_template("LD.24781", "2026H1", "XA_6T", cat=CAT, values={"POP": 5})
    wb[form.SHEET_DATA].title = unicodedata.normalize("NFD", form.SHEET_DATA.upper())
    p = parse_file(_save(wb, tmp_path / "f.xlsx"), cat=CAT)
    assert p.findings == [] and p.values[0]["value"] == 5


def test_deleted_and_renamed_columns(tmp_path):
    wb = build_template("LD.24781", "2026H1", "XA_6T", cat=CAT)
    wb[form.SHEET_DATA].delete_cols(3)
    f = parse_file(_save(wb, tmp_path / "d.xlsx"), cat=CAT).findings[0]
    assert (f.rule_id, f.cell) == ("S09", "C4") and "Đơn vị tính" in f.message_vi
    wb = build_template("LD.24781", "2026H1", "XA_6T", cat=CAT)
    wb[form.SHEET_TASKS]["E4"] = "Kết quả"
    f = parse_file(_save(wb, tmp_path / "r.xlsx"), cat=CAT).findings[0]
    assert (f.rule_id, f.sheet, f.cell) == ("S09", form.SHEET_TASKS, "E4") and "Tình trạng" in f.message_en


def test_meta_found_by_label_after_an_inserted_row(tmp_path):
    wb = build_template("LD.24781", "2026H1", "XA_6T", cat=CAT)
    wb[form.SHEET_META].insert_rows(2)
    wb[form.SHEET_META]["B5"] = "LD.99999"  # the unit code moved from B4 to B5
    f = parse_file(_save(wb, tmp_path / "m.xlsx"), cat=CAT).findings[0]
    assert (f.rule_id, f.cell) == ("S04", "B5")


def test_csv_quirks(tmp_path):
    from tests.corpus import Ctx

    c = Ctx(tmp_path, "LD.24781", "2026H1", CAT.datasets["XA_6T"], CAT)
    rows = csv_rows(c)
    # Excel's «sep=;» line and blank lines before the header; line numbers stay physical
    text = "sep=;\r\n" + csv_text(rows, ";")
    (tmp_path / "sep.csv").write_text(text, encoding="utf-8")
    assert parse_file(tmp_path / "sep.csv", cat=CAT).findings == []
    bad = [r[:] for r in rows]
    bad[6][2] = "n/a"
    (tmp_path / "lines.csv").write_text("\r\n" + csv_text(bad), encoding="utf-8")
    f = parse_file(tmp_path / "lines.csv", cat=CAT).findings[0]
    assert (f.rule_id, f.cell) == ("V01", "dòng 8")
    # a multi-line quoted narrative does not shift later line numbers
    multi = [r[:] for r in rows]
    multi.insert(1, ["thuyet_minh", "ket_qua", "dòng một\r\ndòng hai", ""])
    multi[8][2] = "n/a"
    (tmp_path / "multi.csv").write_bytes(csv_text(multi).encode())
    p = parse_file(tmp_path / "multi.csv", cat=CAT)
    assert [(f.rule_id, f.cell) for f in p.findings] == [("V01", "dòng 10")]
    # an overlong field is a located S12, not a crash
    (tmp_path / "long.csv").write_text(csv_text(rows[:5]) + "thuyet_minh,ket_qua,\"" + "x" * 200_000 + "\",\r\n")
    f = parse_file(tmp_path / "long.csv", cat=CAT).findings[0]
    assert (f.rule_id, f.sheet, f.cell) == ("S12", "CSV", "dòng 6")
    # undecodable bytes (not UTF-8, and 0x81 is undefined in Windows-1258)
    (tmp_path / "enc.csv").write_bytes(cp1258_bytes(csv_text(rows[:3])) + b"\x81\x8d\r\n")
    assert parse_file(tmp_path / "enc.csv", cat=CAT).findings[0].rule_id == "P06"
    # only a BOM and blank lines
    (tmp_path / "blank.csv").write_bytes(b"\xef\xbb\xbf\r\n \r\n")
    assert parse_file(tmp_path / "blank.csv", cat=CAT).findings[0].rule_id == "P01"
    # plain text named .xlsx that is not the CSV form
    (tmp_path / "note.xlsx").write_text("Kính gửi Sở Y tế,\nxin gửi báo cáo.\n", encoding="utf-8")
    f = parse_file(tmp_path / "note.xlsx", cat=CAT).findings[0]
    assert f.rule_id == "P02" and "plain text" in f.message_en


def test_other_containers(tmp_path):
    def zipped(members: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for n, d in members.items():
                zf.writestr(n, d)
        return buf.getvalue()

    kinds = {
        "a.ods": (zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), "OpenDocument"),
        "a.docx": (zipped({"word/document.xml": b"<w:document/>"}), "Word"),
        "a.xlsb": (zipped({"xl/workbook.bin": b"\0"}), ".xlsb"),
        "a.xlsx": (zipped({}), "zip archive"),
        "a.pdf": (b"%PDF-1.7\n", "PDF"),
        "a.xml": (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>', "2003"),
    }
    for name, (data, word) in kinds.items():
        (tmp_path / name).write_bytes(data)
        f = parse_file(tmp_path / name, cat=CAT).findings[0]
        assert f.rule_id == "P02" and word in f.message_en, (name, f.message_en)


def test_mutated_workbooks_never_crash_the_parser(corpus, tmp_path):
    """Byte flips, truncations and zeroed runs of a good workbook: always a result, never an
    exception (a broken file must become a finding, not a failed flow run)."""
    good = corpus["clean_xlsx"][0].read_bytes()
    rng = random.Random(2026)
    for i in range(150):
        data = bytearray(good)
        kind = i % 3
        if kind == 0:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            data = data[: rng.randrange(len(data))]
        else:
            a = rng.randrange(len(data))
            data[a: a + 300] = bytes(len(data[a: a + 300]))
        path = tmp_path / f"m{i}.xlsx"
        path.write_bytes(bytes(data))
        p = parse_file(path, inbox_unit="LD.24781", cat=CAT)
        assert p.findings or len(p.values) == len(CAT.datasets["XA_6T"].elements)
