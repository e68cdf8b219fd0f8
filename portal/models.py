"""Every model module, imported once so that metadata (and Alembic) sees all tables."""
from portal.core.db import Base  # noqa: F401
from portal.accounts.models import Account, LoginSession, RoleAssignment  # noqa: F401
from portal.auth.models import SamlRequest, SeenAssertion  # noqa: F401
from portal.applications.models import Application, Claim, Document, Evidence, StatusEvent  # noqa: F401
from portal.notifications.models import Notification, NotificationAttempt, Reminder  # noqa: F401
from portal.audit.models import AuditChainHead, AuditEvent  # noqa: F401
from portal.privacy.models import Consent  # noqa: F401
from portal.registries.models import (  # noqa: F401
    ApplicationSubject, BenefitOffer, DataAccess, EventCursor, PendingFetch, ReceivedEvent, RectificationRequest,
    RegistryNotice,
)
from portal.routing.models import RoutingRuleVersion  # noqa: F401
from portal.backoffice.models import AgencyCase, CaseTransfer  # noqa: F401
from portal.decisions.models import Appeal, Decision  # noqa: F401
from portal.casefiles.models import CaseFile, CaseNote, HomeVisit, NeedsAssessment, PlanItem, Referral  # noqa: F401
from portal.assessment.models import ClaimAssessment, ClaimKey, RiskFlag  # noqa: F401
from portal.representation.models import Guardianship, Mandate, OnBehalf  # noqa: F401
from portal.assisted.models import AssistedSession  # noqa: F401
from portal.tracking.models import TrackingCode  # noqa: F401
from portal.api.models import (  # noqa: F401
    ApiAccessLog, ApiClient, ApiClientSecret, ApiIdempotency, WebhookAttempt, WebhookDelivery, WebhookEvent,
    WebhookSubscription,
)
