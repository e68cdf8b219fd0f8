"""The consent form a visitor signs at a CUPS centre, printed in the visitor's language."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date, format_datetime
from flask_babel import force_locale, gettext

from portal.core.idnp import mask
from portal.printouts.base import Printout


@dataclass(frozen=True)
class ConsentFormData:
    language: str
    consent_ref: str
    version: str
    visitor_name: str
    visitor_idnp: str
    document: str  # "Identity card no. A12345678", already in the visitor's language
    specialist_name: str
    centre_name: str
    centre_address: str
    created_at: dt.datetime  # aware; shown in ``timezone``
    timezone: str
    registries: tuple[str, ...]  # the registries eSocial consults, in the visitor's language


def render(data: ConsentFormData) -> bytes:
    lang = data.language
    with force_locale(lang):
        doc = Printout(title=gettext("Consent to assisted service"), author="eSocial", language=lang,
                       created=data.created_at)
        doc.para(gettext("Republic of Moldova · eSocial"), size=9, gap=0.5)
        doc.para(data.centre_name, size=12, style="B", gap=0.5)
        doc.para(data.centre_address, size=9, gap=6)
        doc.para(gettext("Consent to assisted service"), size=15, style="B", gap=1)
        when = format_datetime(data.created_at, "long", tzinfo=data.timezone, locale=lang)
        doc.para(gettext("Form %(ref)s, version %(version)s, printed %(when)s",
                         ref=data.consent_ref, version=data.version, when=when), size=9, gap=5)
        doc.rows([
            (gettext("I, the undersigned"), data.visitor_name),
            (gettext("IDNP"), data.visitor_idnp),
            (gettext("Identity document"), data.document),
        ])
        doc.para(gettext("agree that %(specialist)s, specialist of %(centre)s, fills in and sends in eSocial, "
                         "in my name and at my request, applications for social benefits and services, and "
                         "follows them with me, during this visit.",
                         specialist=data.specialist_name, centre=data.centre_name))
        doc.heading(gettext("What I agree to"))
        doc.bullets([
            gettext("The specialist sees, for this purpose only, the data the state registries hold about me and "
                    "my household: %(registries)s.", registries=", ".join(data.registries)),
            gettext("The application is mine: I can see it, continue it and follow it later myself, with MPass, "
                    "by SMS or with the receipt."),
            gettext("Every action the specialist takes for me is recorded with their name, the centre and the "
                    "time, and I can see it."),
        ])
        doc.heading(gettext("What I know"))
        doc.bullets([
            gettext("This consent is valid only for this visit. It ends when the specialist ends the session."),
            gettext("I can withdraw it at any moment by telling the specialist; what was already sent stays sent."),
            gettext("The benefits themselves are examined on the basis of the law, not of this consent."),
            gettext("Personal data are processed according to the Law on personal data protection."),
        ])
        doc.signature_lines([
            gettext("Signature of the visitor (%(name)s)", name=data.visitor_name),
            gettext("Signature of the specialist (%(name)s)", name=data.specialist_name),
        ])
        doc.para(gettext("Date: %(date)s", date=format_date(data.created_at.astimezone(_zone(data.timezone)).date(),
                                                            "long", locale=lang)), size=9.5)
        doc.para(gettext("The centre keeps the signed form. Reference for eSocial: %(ref)s (visitor IDNP %(masked)s).",
                         ref=data.consent_ref, masked=mask(data.visitor_idnp)), size=8.5)
        return doc.output()


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
