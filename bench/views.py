"""Baselines for the load benchmark: how fast Django itself can serve the same rows.

Each view runs hand-written SQL with the same visibility rule as the service (the user's own
grants and their role groups' grants on the case; a list page probes the grants of the rows
it walks, as the service does) and writes a plain HTML table: no ORM, no
templates, no forms, no presenters. The service's pages are measured against these with the
same wrk settings; the ratio is the price of everything the service adds.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import escape

VISIBLE = """
    SELECT content_object_id FROM escalations_differenceuserobjectpermission
     WHERE user_id = %(user)s AND permission_id = %(permission)s
    UNION
    SELECT g.content_object_id FROM escalations_differencegroupobjectpermission g
      JOIN auth_user_groups ug ON ug.group_id = g.group_id
     WHERE ug.user_id = %(user)s AND g.permission_id = %(permission)s
"""

PERMISSION = """
    (SELECT p.id FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id
      WHERE t.app_label = 'escalations' AND p.codename = 'view_professionaldifference')
"""

# For a page: probe the grants of each row the index walk reads (one EXISTS over both kinds of
# grant, the person's groups read once), bounded to the person's partnerships, as the service
# does, rather than hashing every grant first (d.id IN (VISIBLE)), which costs a manager who
# sees 14,000 cases, and a business manager who sees 100,000, far more than the page.
PROBE = """
    EXISTS (SELECT 1 FROM escalations_differenceuserobjectpermission o
             WHERE o.content_object_id = d.id AND o.user_id = %(user)s
               AND o.permission_id = %(permission)s
            UNION ALL
            SELECT 1 FROM escalations_differencegroupobjectpermission g
             WHERE g.content_object_id = d.id AND g.permission_id = %(permission)s
               AND g.group_id IN (SELECT group_id FROM auth_user_groups
                                   WHERE user_id = %(user)s))
"""

PARTNERSHIPS = """
    SELECT a.partnership_id FROM agencies_agencymembership m
      JOIN agencies_agency a ON a.id = m.agency_id WHERE m.user_id = %(user)s
    UNION
    SELECT partnership_id FROM agencies_partnershipmembership WHERE user_id = %(user)s
"""

LIST = """
SELECT d.id, d.reference, d.status, d.stage, d.raised_at, d.raiser_agency_name, d.is_urgent,
       se.due_at,
       (SELECT string_agg(c.name, '|' ORDER BY c.id) FROM escalations_child c
         WHERE c.difference_id = d.id) AS children,
       (SELECT string_agg(a.name, '|' ORDER BY p.id) FROM escalations_party p
          JOIN agencies_agency a ON a.id = p.agency_id
         WHERE p.difference_id = d.id AND NOT p.is_raising) AS others
  FROM escalations_professionaldifference d
  LEFT JOIN escalations_stageentry se ON se.difference_id = d.id AND se.left_at IS NULL
 WHERE {visible}
   {status}
 ORDER BY {order}
 LIMIT 51
"""  # Constant SQL: only the fragments above are formatted in; values are bound.
ORDERS = {
    "newest": "d.raised_at DESC, d.id DESC",
    "due": "se.due_at ASC NULLS LAST, d.id ASC",
}
# Newest first walks the raised-at index and probes each row; by due date every visible row is
# sorted (a due date may be null: the outer join), so the visible set is hashed once instead
# (probing all 100,000 rows of a partnership would take a second).
VISIBILITY = {
    "newest": f"d.partnership_id IN ({{partnerships}}) AND {PROBE}",
    "due": f"d.id IN ({VISIBLE})",
}

CASE = f"""
SELECT d.id, d.reference, d.status, d.stage, d.raised_at, d.raiser_name, d.raiser_agency_name,
       d.issue, pa.name, ca.name, se.due_at
  FROM escalations_professionaldifference d
  JOIN agencies_partnership pa ON pa.id = d.partnership_id
  JOIN agencies_category ca ON ca.id = d.category_id
  LEFT JOIN escalations_stageentry se ON se.difference_id = d.id AND se.left_at IS NULL
 WHERE d.id = %(case)s AND d.id IN ({VISIBLE})
"""  # noqa: S608

ENTRIES = """
SELECT kind, occurred_at, method, participants, facts, opinion, outcome, author_name
  FROM records_entry WHERE difference_id = %(case)s ORDER BY created_at, id
"""


def _initials(name: str) -> str:
    return "".join(part[0].upper() for part in name.split() if part)


def _page(title: str, body: list[str]) -> HttpResponse:
    return HttpResponse(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title></head><body><h1>{escape(title)}</h1>{''.join(body)}</body></html>"
    )


@login_required
def bare_case_list(request: HttpRequest) -> HttpResponse:
    """The first page of the case list (50 rows, newest first or by due date), optionally
    of one status."""
    sort = request.GET.get("sort", "")
    sort = sort if sort in ORDERS else "newest"
    params = {
        "user": request.user.pk,
        "permission": None,
        "status": request.GET.get("status", "")[:20],
    }
    with connection.cursor() as cursor:
        cursor.execute(PERMISSION)
        params["permission"] = cursor.fetchone()[0]
        # The person's partnerships as values: as a subquery in the page's query the planner
        # cannot know how few rows it has, and with two partnerships of 100,000 cases it chose
        # to read them all (over a second).
        cursor.execute(PARTNERSHIPS, params)
        partnerships = [row[0] for row in cursor.fetchall()] or [0]
        params |= {f"partnership{i}": pk for i, pk in enumerate(partnerships)}
        marks = ", ".join(f"%(partnership{i})s" for i in range(len(partnerships)))
        status = "AND d.status = %(status)s" if params["status"] else ""
        cursor.execute(
            LIST.format(
                order=ORDERS[sort],
                status=status,
                visible=VISIBILITY[sort].format(partnerships=marks),
            ),
            params,
        )
        rows = cursor.fetchall()
    body = ["<table><tr><th>Case</th><th>Status</th><th>Due</th><th>Children</th>"
            "<th>Agencies</th><th>Raised</th></tr>"]  # fmt: skip
    for pk, reference, status, stage, raised, agency, urgent, due, children, others in rows[:50]:
        kids = ", ".join(_initials(name) for name in (children or "").split("|") if name)
        due_text = f"{due:%d %b %Y}" if due else "Not timed"
        body.append(
            f'<tr><td><a href="/cases/{pk}/">{escape(reference)}</a>'
            f"{' (urgent)' if urgent else ''}</td><td>{escape(status)} ({escape(stage)})</td>"
            f"<td>{due_text}</td><td>{escape(kids)}</td>"
            f"<td>{escape(agency)}; {escape(others or '')}</td>"
            f"<td>{raised:%d %b %Y}</td></tr>"
        )
    body.append("</table>")
    if len(rows) > 50:
        body.append('<a href="?after=next">Next</a>')
    return _page("Cases", body)


@login_required
def bare_case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's facts and its whole chronology."""
    params = {"user": request.user.pk, "case": pk, "permission": None}
    with connection.cursor() as cursor:
        cursor.execute(PERMISSION)
        params["permission"] = cursor.fetchone()[0]
        cursor.execute(CASE, params)
        case = cursor.fetchone()
        if case is None:
            raise Http404("No such case.")
        cursor.execute(ENTRIES, params)
        entries = cursor.fetchall()
    (_, reference, status, stage, raised, raiser, agency, issue, partnership, category,
     due) = case  # fmt: skip
    body = [
        f"<dl><dt>Status</dt><dd>{escape(status)} ({escape(stage)})</dd>"
        f"<dt>Raised</dt><dd>{raised:%d %b %Y} by {escape(raiser)}, {escape(agency)}</dd>"
        f"<dt>Partnership</dt><dd>{escape(partnership)}</dd>"
        f"<dt>Category</dt><dd>{escape(category)}</dd>"
        f"<dt>Due</dt><dd>{f'{due:%d %b %Y}' if due else 'Not timed'}</dd>"
        f"<dt>Issue</dt><dd>{escape(issue)}</dd></dl><ol>"
    ]
    for kind, at, method, participants, facts, opinion, outcome, author in entries:
        body.append(
            f"<li><h3>{escape(kind)}, {at:%d %b %Y %H:%M}</h3><p>{escape(method)}; "
            f"{escape(participants)}</p><p>{escape(facts)}</p><p>{escape(opinion)}</p>"
            f"<p>{escape(outcome)}</p><p>{escape(author)}</p></li>"
        )
    body.append("</ol>")
    return _page(reference or f"Case {pk}", body)
