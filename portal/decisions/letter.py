"""The decision letter: a PDF in the citizen's language, made with fpdf2 and the DejaVu fonts.

DejaVu Sans covers the Romanian letters with comma below (ș, ț, Ș, Ț), the
Cyrillic alphabet and every other letter of the text; the fonts come from the
Debian package ``fonts-dejavu-core`` and are embedded (subset) in every letter,
so it reads the same on any device.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from flask_babel import force_locale, gettext, ngettext

from portal.core.i18n import money

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class FontMissing(RuntimeError):
    pass


def font_file(name: str) -> Path:
    for directory in FONT_DIRS:
        path = directory / name
        if path.is_file():
            return path
    raise FontMissing(f"{name} not found: install the Debian package fonts-dejavu-core")


@dataclass(frozen=True)
class LetterData:
    language: str
    number: str
    decided_on: dt.date
    agency: str
    agency_seat: str
    applicant_name: str
    applicant_idnp: str
    application_number: str
    benefit: str
    outcome: str  # approved | rejected
    amount: Decimal | None
    period: str | None  # monthly | one_off
    start_date: dt.date | None
    reason: str | None
    explanation: str | None
    legal_basis: str
    appeal_until: dt.date
    appeal_legal_basis: str
    decided_by: str
    on_appeal: bool = False


def render(data: LetterData) -> bytes:
    """The letter as PDF bytes. Needs an application context (translations)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    lang = data.language
    with force_locale(lang):
        def day(d: dt.date) -> str:
            return format_date(d, "long", locale=lang)

        pdf = FPDF(format="A4")
        pdf.set_margins(20, 18, 20)
        pdf.set_auto_page_break(True, margin=18)
        for style, name in FONTS.items():
            pdf.add_font("DejaVu", style, str(font_file(name)))
        pdf.set_lang(lang)
        pdf.set_title(gettext("Decision %(number)s", number=data.number))
        pdf.set_author(data.agency)
        pdf.set_creator("eSocial")
        pdf.set_creation_date(dt.datetime.combine(data.decided_on, dt.time(12, 0), tzinfo=dt.timezone.utc))
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin

        def para(text: str, size: float = 10.5, style: str = "", gap: float = 2.5) -> None:
            pdf.set_font("DejaVu", style, size)
            pdf.multi_cell(width, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(gap)

        def heading(text: str) -> None:
            pdf.ln(1.5)
            para(text, size=11.5, style="B", gap=1.5)

        para(gettext("Republic of Moldova"), size=9, gap=0.5)
        para(data.agency, size=12, style="B", gap=0.5)
        para(data.agency_seat, size=9, gap=6)
        title = (gettext("Decision on appeal no. %(number)s", number=data.number) if data.on_appeal
                 else gettext("Decision no. %(number)s", number=data.number))
        para(title, size=15, style="B", gap=1)
        para(gettext("of %(date)s", date=day(data.decided_on)), size=10, gap=5)

        para(gettext("Applicant: %(name)s, IDNP %(idnp)s", name=data.applicant_name, idnp=data.applicant_idnp))
        para(gettext("Application: %(number)s", number=data.application_number))
        para(gettext("Benefit: %(benefit)s", benefit=data.benefit), gap=4)

        heading(gettext("Decision"))
        if data.outcome == "approved":
            para(gettext("The benefit is granted."), style="B")
            if data.amount is not None:
                if data.period == "one_off":
                    para(gettext("Amount: %(amount)s, paid once.", amount=money(data.amount)))
                else:
                    para(gettext("Amount: %(amount)s per month.", amount=money(data.amount)))
            if data.start_date:
                if data.period == "one_off":
                    para(gettext("Paid from: %(date)s, once.", date=day(data.start_date)))
                else:
                    para(gettext("Paid monthly from: %(date)s.", date=day(data.start_date)))
            heading(gettext("How the amount was determined"))
            para(data.explanation or gettext("The amount is set by the law for this benefit."))
        else:
            para(gettext("The benefit is not granted."), style="B")
            heading(gettext("Reason"))
            para(data.reason or "")
            if data.explanation:
                para(data.explanation)

        heading(gettext("Legal basis"))
        para(data.legal_basis)

        heading(gettext("How to appeal"))
        para(ngettext("If you disagree with this decision, you can contest it until %(date)s (%(num)s day from "
                      "the decision): in eSocial, on the page of your application, press “Appeal”, or in writing "
                      "to %(agency)s. A worker other than the one who decided will examine your appeal.",
                      "If you disagree with this decision, you can contest it until %(date)s (%(num)s days from "
                      "the decision): in eSocial, on the page of your application, press “Appeal”, or in writing "
                      "to %(agency)s. A worker other than the one who decided will examine your appeal.",
                      (data.appeal_until - data.decided_on).days, date=day(data.appeal_until), agency=data.agency))
        para(gettext("After the appeal you can go to the administrative court. Legal basis: %(basis)s.",
                     basis=data.appeal_legal_basis))

        pdf.ln(4)
        para(gettext("Decided by: %(name)s, %(agency)s", name=data.decided_by, agency=data.agency), size=9.5)
        para(gettext("This letter was issued electronically by eSocial and is valid without a signature on paper."),
             size=8.5)
        return bytes(pdf.output())


def digest(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()
