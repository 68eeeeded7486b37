"""`osteoqsp report`: a self-contained HTML page with every figure embedded and the key tables."""

from __future__ import annotations

from html.parser import HTMLParser

from osteoqsp.shells.cli import main


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self.tables += tag == "table"


def test_report_of_a_simulation(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "sato2012-mk7-single", "-o", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    parser = _Collect()
    parser.feed(page)
    figures = list((out / "figures").glob("*.png"))
    assert len(parser.images) == len(figures) >= 4
    assert all(src.startswith("data:image/png;base64,") and len(src) > 1000 for src in parser.images)
    assert parser.tables >= 1 and "mk7_serum" in page and "sato2012-mk7-single" in page
    assert main(["report", str(tmp_path / "missing")]) == 2
