"""The report form: sheet names, header rows and columns shared by the template writer and the
parser. Changing the layout means a new TEMPLATE_VERSION (the parser names the versions it reads)."""

TEMPLATE_VERSION = "baocao-1"
READABLE_VERSIONS = ("baocao-1",)

SHEET_META = "Thông tin"
SHEET_DATA = "Số liệu"
SHEET_TASKS = "Nhiệm vụ"
SHEET_TEXT = "Thuyết minh"
REQUIRED_SHEETS = (SHEET_META, SHEET_DATA)

# Meta sheet: label in column A, value in column B, from row 3.
META_ROWS = [
    ("template_version", "Phiên bản mẫu biểu / Template version"),
    ("unit_code", "Mã đơn vị / Unit code"),
    ("unit_name", "Tên đơn vị / Unit name"),
    ("period", "Kỳ báo cáo / Period"),
    ("dataset_code", "Mã báo cáo / Report code"),
    ("deadline", "Hạn gửi / Deadline"),
    ("prepared_by", "Người lập biểu / Prepared by"),
]
META_FIRST_ROW = 3

HEADER_ROW = 4  # header row of the data, tasks and text sheets; data from the next row
DATA_COLUMNS = ["Mã", "Chỉ tiêu", "Đơn vị tính", "Giá trị", "Ghi chú"]
DATA_VALUE_COL = 4  # D (1-based)
TASK_COLUMNS = ["Kế hoạch", "STT", "Nhiệm vụ", "Thời hạn", "Tình trạng", "Ghi chú"]
TASK_STATUS_COL = 5  # E
TEXT_COLUMNS = ["Mã mục", "Mục", "Nội dung"]
TEXT_VALUE_COL = 3  # C

# CSV form: one line per item; `loai` is meta | so_lieu | nhiem_vu | thuyet_minh.
CSV_COLUMNS = ["loai", "ma", "gia_tri", "ghi_chu"]


def col_letter(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s
