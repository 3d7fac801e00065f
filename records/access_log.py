"""The access audit: every view of a case, every download and every refused attempt.

``AccessAuditMiddleware`` writes one ``AccessEvent`` per audited request, after the view has
answered, with one INSERT and no look-up: who (``request.user``, already loaded by the view's
``login_required``), what (the URL name and the case and child ids from the URL), from where
(the client address, and the browser name cut to 200 characters) and the outcome (the status).

Audited: every route under ``cases/<int:pk>/`` or ``children/<int:child_pk>/`` (case pages,
case actions, copies, PDFs, a child's chronology, subject access exports), the report and its
downloads, the blank form PDF, the administration pages, the Django admin's case pages, and
every 401, 403 or 404 on any routed page (a case the person may not see answers 404). Static
files, health checks and paths that match no route are not audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models.sql import InsertQuery
from django.http import HttpRequest, HttpResponse

from accounts.client_ip import client_ip
from records.models import AccessEvent, AccessOutcome

logger = logging.getLogger(__name__)

CASE_ROUTE = "cases/<int:pk>/"
CHILD_ROUTE = "children/<int:child_pk>/"
AUDITED_URL_NAMES = frozenset(
    {
        "report",
        "report_download",
        "blank_record_pdf",
        "access_log",
        "retention_due",
        "subject_access_search",
    }
)
# The Django admin's pages of a case (its object_id is the case id).
ADMIN_CASE_URL_NAMES = frozenset(
    {
        "escalations_professionaldifference_change",
        "escalations_professionaldifference_history",
    }
)
# One rule for the client's address, shared with django-axes' lockout (accounts.client_ip).
client_address = client_ip

DENIED_STATUSES = frozenset({401, 403, 404})
USER_AGENT_LIMIT = 200
# Set on the request by views that know the partnership without a query.
PARTNERSHIP_ATTRIBUTE = "access_partnership_id"


def _outcome(status: int, authenticated: bool) -> str:
    if status in DENIED_STATUSES:
        return AccessOutcome.DENIED
    if status < 400:
        # A signed-out visitor is sent to the sign-in page: they saw nothing.
        return AccessOutcome.ALLOWED if authenticated else AccessOutcome.DENIED
    return AccessOutcome.FAILED


BIGINT_MAX = 2**63 - 1


def _int_or_none(value: Any) -> int | None:
    """An id that fits the column, or None (a URL may carry any number of digits)."""
    text = str(value if value is not None else "")
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= BIGINT_MAX else None


def access_event_for(request: HttpRequest, response: HttpResponse) -> AccessEvent | None:
    """The entry this request deserves (unsaved), or None when it is not audited."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    if request.path.startswith(settings.STATIC_URL or "/static/"):
        return None
    url_name = match.url_name or ""
    if url_name.startswith("health"):
        return None
    route = match.route or ""
    kwargs = match.kwargs
    case_id = child_id = None
    if CASE_ROUTE in route:
        case_id = _int_or_none(kwargs.get("pk"))
    if CHILD_ROUTE in route:
        child_id = _int_or_none(kwargs.get("child_pk"))
    if url_name in ADMIN_CASE_URL_NAMES:
        case_id = _int_or_none(kwargs.get("object_id"))
    status = response.status_code
    audited = (
        case_id is not None
        or child_id is not None
        or url_name in AUDITED_URL_NAMES
        or url_name in ADMIN_CASE_URL_NAMES
        or status in DENIED_STATUSES
    )
    if not audited:
        return None
    user: Any = getattr(request, "user", None)
    authenticated = bool(user is not None and user.is_authenticated)
    return AccessEvent(
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else "",
        url_name=(f"{match.namespace}:{url_name}" if match.namespace else url_name)[:120],
        method=(request.method or "")[:10],
        case_id=case_id,
        child_id=child_id,
        partnership_id=_int_or_none(getattr(request, PARTNERSHIP_ATTRIBUTE, None)),
        status_code=status,
        outcome=_outcome(status, authenticated),
        ip_address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LIMIT],
    )


class AccessAuditMiddleware:
    """Write the access entry of every audited request (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        event = access_event_for(request, response)
        if event is not None:
            # One INSERT. If it fails the request fails too: a page whose viewing cannot be
            # recorded is not shown (ASVS V16: security logging must not be skipped quietly).
            _save(event)
        return response


def _save(event: AccessEvent) -> None:
    """Write the entry. On PostgreSQL its commit does not wait for the WAL to reach the disk
    (``synchronous_commit`` off for this one transaction, ADR 0007): that wait (an fsync,
    3-5 ms on this machine) was a fifth of a case page's time. The entry is written and
    visible at once; only a crash of the database server itself within about 0.6 s of
    the commit (3 × wal_writer_delay) could lose it, and never leaves the database
    inconsistent. The case record and everything else keep synchronous commits.

    The setting and the INSERT (the ORM's own, from its compiler) go as one query, which
    PostgreSQL runs as one implicit transaction: one round trip where BEGIN, SET LOCAL,
    INSERT and COMMIT took four. An error rolls it all back and leaves no transaction
    open."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        event.save()
        return
    meta = AccessEvent._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    query = InsertQuery(AccessEvent)
    query.insert_values(fields, [event])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {sql}", params)
