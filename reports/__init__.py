"""The provincial report: the draft "báo cáo sơ kết 6 tháng" / "tổng kết năm" the operator edits
and sends up, built from the warehouse marts as an Excel workbook and a self-contained HTML page
(`reports.build.write_report`)."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "write_report":
        from reports.build import write_report

        return write_report
    raise AttributeError(name)


__all__ = ["write_report"]
