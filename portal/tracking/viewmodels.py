from __future__ import annotations

from sqlalchemy.orm import Session

from portal.applications import services
from portal.applications.models import Application
from portal.assisted import centres
from portal.core.idnp import mask
from portal.preferences.services import timezone_of
from portal.printouts.receipt import ReceiptBenefit, ReceiptData
from portal.representation import provenance
from portal.routing.reference import territory
from portal.tracking import services as tracking


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:-6] + "•••" + phone[-3:] if len(phone) > 8 else phone


def receipt_data(session: Session, application: Application, *, base_url: str) -> ReceiptData:
    """The receipt in the applicant's language and time zone (it is theirs, wherever it is printed)."""
    from flask_babel import force_locale

    lang = application.language or application.applicant.language or "ro"
    cat, terr = services.catalogue(), territory()
    tz = timezone_of(application.applicant)
    with force_locale(lang):
        origin = provenance.of(session, application, lang, tzinfo=tz)
        lines = tuple(origin.lines) if origin else ()
    centre = centres.get(origin.centre_code) if origin and origin.basis == "assisted" else None
    benefits = []
    for claim in application.claims:
        agency = terr.agencies.get(claim.agency_code)
        benefit = cat.get(claim.benefit_code)
        benefits.append(ReceiptBenefit(benefit.title_in(lang), agency.name_in(lang) if agency else None,
                                       benefit.processing_days))
    base = base_url.rstrip("/")
    applicant = application.applicant
    return ReceiptData(
        language=lang, number=application.number, submitted_at=application.submitted_at, timezone=tz,
        applicant_name=applicant.full_name, applicant_idnp=mask(applicant.idnp), benefits=tuple(benefits),
        provenance=lines, lookup_url=f"{base}/status", code=tracking.display(tracking.code_for(session, application)),
        portal_url=base, phone=mask_phone(application.contact_phone or applicant.phone),
        email=application.contact_email or applicant.email,
        centre_name=centre.name_in(lang) if centre else None, centre_address=centre.address_in(lang) if centre else None,
        centre_phone=centre.phone if centre else None)
