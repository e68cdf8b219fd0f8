"""The receipt of an application, printed in the applicant's language: the number, what happens next, and
how to follow the status without an account (SMS, or the public lookup with the code printed here)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_datetime
from flask_babel import force_locale, gettext, ngettext

from portal.printouts.base import Printout


@dataclass(frozen=True)
class ReceiptBenefit:
    title: str
    agency: str | None  # None: chosen once the population register gives the address
    processing_days: int


@dataclass(frozen=True)
class ReceiptData:
    language: str
    number: str
    submitted_at: dt.datetime
    timezone: str
    applicant_name: str
    applicant_idnp: str  # masked
    benefits: tuple[ReceiptBenefit, ...]
    provenance: tuple[str, ...]
    lookup_url: str
    code: str  # as printed, XXXX-XXXX
    portal_url: str
    phone: str | None  # masked
    email: str | None
    centre_name: str | None = None
    centre_address: str | None = None
    centre_phone: str | None = None


def render(data: ReceiptData) -> bytes:
    lang = data.language
    with force_locale(lang):
        when = format_datetime(data.submitted_at, "long", tzinfo=data.timezone, locale=lang)
        doc = Printout(title=gettext("Receipt for application %(number)s", number=data.number), author="eSocial",
                       language=lang, created=data.submitted_at)
        doc.para(gettext("Republic of Moldova · eSocial"), size=9, gap=0.5)
        if data.centre_name:
            doc.para(data.centre_name, size=11, style="B", gap=0.5)
            doc.para(" · ".join(x for x in (data.centre_address, data.centre_phone) if x), size=9, gap=5)
        doc.para(gettext("Receipt"), size=15, style="B", gap=1)
        doc.para(gettext("Your application was sent on %(when)s.", when=when), gap=3)
        doc.para(gettext("Application number"), size=10, gap=1)
        doc.code_box(data.number)
        doc.rows([(gettext("Applicant"), gettext("%(name)s, IDNP %(idnp)s", name=data.applicant_name, idnp=data.applicant_idnp))])
        for line in data.provenance:
            doc.para(line, size=9.5, gap=1.5)

        doc.heading(gettext("What happens next"))
        items = []
        for b in data.benefits:
            if b.agency:
                items.append(ngettext("%(benefit)s: %(agency)s decides within %(num)s working day.",
                                      "%(benefit)s: %(agency)s decides within %(num)s working days.",
                                      b.processing_days, benefit=b.title, agency=b.agency))
            else:
                items.append(ngettext("%(benefit)s: the agency is chosen as soon as the population register gives "
                                      "your address; it then decides within %(num)s working day.",
                                      "%(benefit)s: the agency is chosen as soon as the population register gives "
                                      "your address; it then decides within %(num)s working days.",
                                      b.processing_days, benefit=b.title))
        items.append(gettext("If the agency needs anything more, we tell you. You can answer in eSocial, or come "
                             "back to a CUPS centre with this receipt."))
        items.append(gettext("The decision comes as a letter in eSocial, and we tell you that it is there."))
        doc.bullets(items)

        doc.heading(gettext("Follow your application without an account"))
        if data.phone:
            doc.para(gettext("By SMS: we send a message to %(phone)s at every change.", phone=data.phone))
        else:
            doc.para(gettext("By SMS: give a mobile number at a CUPS centre or in eSocial, and we send a message at "
                             "every change."))
        if data.email:
            doc.para(gettext("By e-mail: we write to %(email)s at every change.", email=data.email))
        doc.para(gettext("On the internet, without logging in: open %(url)s and enter the application number and "
                         "this code:", url=data.lookup_url), gap=1)
        doc.code_box(data.code, size=18)
        doc.para(gettext("The page shows only where the application stands, never your personal data. Keep the "
                         "code for yourself."), size=9.5)
        doc.para(gettext("With MPass: log in at %(url)s to see everything and to answer the agency.",
                         url=data.portal_url), size=9.5)
        doc.pdf.ln(4)
        doc.para(gettext("This receipt was issued by eSocial. It confirms that the application was received; it is "
                         "not a decision."), size=8.5)
        return doc.output()
