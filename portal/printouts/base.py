"""A small page builder over fpdf2: headings, paragraphs, label/value rows, signature lines."""
from __future__ import annotations

import datetime as dt

from portal.decisions.letter import FONTS, font_file


class Printout:
    """One A4 document in DejaVu Sans (Romanian comma-below letters and Cyrillic both print)."""

    def __init__(self, *, title: str, author: str, language: str, created: dt.datetime) -> None:
        from fpdf import FPDF

        pdf = FPDF(format="A4")
        pdf.set_margins(20, 18, 20)
        pdf.set_auto_page_break(True, margin=18)
        for style, name in FONTS.items():
            pdf.add_font("DejaVu", style, str(font_file(name)))
        pdf.set_lang(language)
        pdf.set_title(title)
        pdf.set_author(author)
        pdf.set_creator("eSocial")
        pdf.set_creation_date(created)
        pdf.add_page()
        self.pdf = pdf
        self.width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(self, text: str, size: float = 10.5, style: str = "", gap: float = 2.5) -> None:
        from fpdf.enums import XPos, YPos

        self.pdf.set_font("DejaVu", style, size)
        self.pdf.multi_cell(self.width, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(gap)

    def heading(self, text: str) -> None:
        self.pdf.ln(1.5)
        self.para(text, size=11.5, style="B", gap=1.5)

    def bullets(self, items: list[str], size: float = 10.5) -> None:
        for item in items:
            self.para("•  " + item, size=size, gap=1)
        self.pdf.ln(1.5)

    def rows(self, rows: list[tuple[str, str]], size: float = 10.5) -> None:
        """Label and value side by side; the value wraps in its column."""
        from fpdf.enums import XPos, YPos

        label_w = self.width * 0.36
        for label, value in rows:
            self.pdf.set_font("DejaVu", "B", size)
            y = self.pdf.get_y()
            self.pdf.multi_cell(label_w, size * 0.5, label, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.pdf.set_font("DejaVu", "", size)
            self.pdf.multi_cell(self.width - label_w, size * 0.5, value, align="L", new_x=XPos.LMARGIN,
                                new_y=YPos.NEXT)
            self.pdf.set_y(max(self.pdf.get_y(), y + size * 0.5) + 1.2)
        self.pdf.ln(1.5)

    def code_box(self, text: str, size: float = 20) -> None:
        """A value to copy by hand (an application number, a code), large and boxed."""
        self.pdf.set_font("DejaVu", "B", size)
        self.pdf.cell(self.width, size * 0.6, text, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(3)

    def signature_lines(self, labels: list[str]) -> None:
        self.pdf.ln(8)
        for label in labels:
            self.para("_" * 38, size=10.5, gap=0.5)
            self.para(label, size=9, gap=6)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
