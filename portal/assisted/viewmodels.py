from __future__ import annotations

from flask_babel import force_locale, gettext

from portal.applications import services as app_services
from portal.assisted import centres
from portal.assisted.models import AssistedSession
from portal.assisted.services import DOCUMENT_TYPES
from portal.printouts.consent_form import ConsentFormData
from portal.routing.reference import territory


def consent_form_data(visit: AssistedSession) -> ConsentFormData:
    """The consent form in the visitor's language, with the centre's time."""
    lang = visit.language
    centre = centres.get(visit.centre_code)
    terr = territory()
    with force_locale(lang):
        if visit.document_type in DOCUMENT_TYPES:
            document = gettext("%(document_type)s no. %(number)s", document_type=DOCUMENT_TYPES[visit.document_type],
                               number=visit.document_number or "—")
        else:
            document = gettext("MPass login of the visitor")
        registries = sorted({terr.registries[code].name_in(lang) for b in app_services.catalogue()
                             for code in b.data.values() if code in terr.registries})
    return ConsentFormData(language=lang, consent_ref=visit.ref, version="cups-assisted-1",
                           visitor_name=visit.visitor.full_name, visitor_idnp=visit.visitor.idnp, document=document,
                           specialist_name=visit.specialist.full_name, centre_name=centre.name_in(lang),
                           centre_address=centre.address_in(lang), created_at=visit.started_at,
                           timezone=centre.timezone, registries=tuple(registries))
