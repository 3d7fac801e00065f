"""The case list: every case the person may see, filtered, searched, sorted and paged.

Paging is by keyset (a cursor of the sort key and the primary key), never OFFSET, and nothing
is counted (the total is only shown on the last page, where it is known for free), so a page
costs the same at case 50 and at case 100,000. Every row's facts
come in a constant number of queries (``list_facts``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_safe

from agencies.config import PartnershipConfig, partnership_configs
from agencies.models import TimedStage
from agencies.selectors import roles_held
from escalations.forms.lists import SORT_DUE, SORT_NEWEST, SORT_OLDEST, CaseFilterForm
from escalations.models import ProfessionalDifference, StageEntry
from escalations.presenters import child_label, clock_for
from escalations.selectors import (
    ListFacts,
    differences_filtered,
    differences_visible_to_for_pages,
    differences_with_due_at,
    list_facts,
)
from escalations.states import Status
from ui.dates import short_date
from ui.links import object_url

PAGE_SIZE = 50
# The columns a row shows (``case_rows``): a list never reads a case's long text.
ROW_COLUMNS = (
    "pk", "partnership_id", "reference", "status", "stage", "raiser_agency_name", "raised_at",
    "is_urgent",
)  # fmt: skip
CURSOR_MAX_LENGTH = 80

BAD_CURSOR = "The link to that page of results was not recognised, so the first page is shown."


# -- rows -------------------------------------------------------------------------------------


class CaseColumns(Protocol):
    """The columns of a case a row shows (``ROW_COLUMNS``): a case, or a named tuple of them."""

    pk: int
    partnership_id: int
    reference: str
    status: str
    stage: str
    raiser_agency_name: str
    raised_at: datetime
    is_urgent: bool


@dataclass(frozen=True)
class ChildCell:
    pk: int
    label: str
    url: str


@dataclass(frozen=True)
class CaseRow:
    """One case as a list shows it: never a child's full name."""

    pk: int
    reference: str
    status: str
    status_label: str
    stage_label: str
    clock_text: str
    overdue: bool
    paused: bool
    due_at: datetime | None
    children: tuple[ChildCell, ...]
    raising_agency: str
    other_agencies: tuple[str, ...]
    raised_at: datetime
    is_urgent: bool
    url: str
    raised_on: str  # "4 Mar 2026", the local date


_STATUS_LABELS: dict[str, str] = {status.value: str(status.label) for status in Status}
_STAGE_LABELS: dict[str, str] = _STATUS_LABELS | {
    stage.value: str(stage.label) for stage in TimedStage
}


def stage_label(stage: str) -> str:
    """'Stage 2' rather than the long label, for tables."""
    found = _STAGE_LABELS.get(stage)
    return found if found is not None else str(Status(stage).label)


def case_rows(
    cases: Sequence[ProfessionalDifference] | Sequence[CaseColumns],
    now: datetime | None = None,
    *,
    facts: dict[int, ListFacts] | None = None,
) -> list[CaseRow]:
    """Rows for ``cases``, their facts read in a constant number of queries (``list_facts``;
    or given, when a page shows several lists and reads them once for all)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if facts is None:
        facts = list_facts(cases)
    rows = []
    for case in cases:
        fact = facts[case.pk]
        clock_text, overdue, paused, due_at = "Not timed", False, False, None
        if fact.running is not None:
            clock = clock_for(fact.running, fact.calendar, now)
            clock_text, overdue, paused, due_at = (
                clock.text,
                clock.overdue,
                clock.paused,
                clock.due_at,
            )
        rows.append(
            CaseRow(
                pk=case.pk,
                reference=case.reference or f"Difference {case.pk}",
                status=case.status,
                status_label=_STATUS_LABELS.get(case.status) or case.status,
                stage_label=stage_label(case.stage),
                clock_text=clock_text,
                overdue=overdue,
                paused=paused,
                due_at=due_at,
                children=tuple(
                    ChildCell(
                        pk=child.pk,
                        label=child_label(child, today),
                        url=object_url("child_chronology", child.pk),
                    )
                    for child in fact.children
                ),
                raising_agency=case.raiser_agency_name,
                other_agencies=tuple(fact.other_agencies),
                raised_at=case.raised_at,
                is_urgent=case.is_urgent,
                url=object_url("case_detail", case.pk),
                raised_on=short_date(case.raised_at),
            )
        )
    return rows


# -- keyset pagination ------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    """A sort: the key (with the primary key as tie-break), its direction, and whether the
    key may be null (nulls come last). ``without_key`` narrows a queryset to the rows whose
    key is null, as an anti-join (a filter on the null of a LEFT JOIN reads the whole join)."""

    field: str
    descending: bool
    nullable: bool
    without_key: (
        Callable[[QuerySet[ProfessionalDifference]], QuerySet[ProfessionalDifference]] | None
    ) = None


def _without_running_clock(
    queryset: QuerySet[ProfessionalDifference],
) -> QuerySet[ProfessionalDifference]:
    return queryset.filter(
        ~Exists(StageEntry.objects.filter(difference=OuterRef("pk"), left_at__isnull=True))
    )


SORTS: dict[str, SortKey] = {
    SORT_NEWEST: SortKey("raised_at", descending=True, nullable=False),
    SORT_OLDEST: SortKey("raised_at", descending=False, nullable=False),
    SORT_DUE: SortKey(
        "due_at", descending=False, nullable=True, without_key=_without_running_clock
    ),
}


@dataclass(frozen=True)
class Cursor:
    key: datetime | None
    pk: int

    def encode(self) -> str:
        key = "-" if self.key is None else self.key.astimezone(UTC).isoformat()
        return f"{key}~{self.pk}"


def cursor_decode(text: str, sort: SortKey) -> Cursor:
    """Read a cursor; ``ValueError`` if it is not one this sort could have written."""
    if not text or len(text) > CURSOR_MAX_LENGTH or text.count("~") != 1:
        raise ValueError("not a cursor")
    key_text, pk_text = text.split("~")
    if not pk_text.isdigit() or len(pk_text) > 18:
        raise ValueError("not a cursor")
    if key_text == "-":
        if not sort.nullable:
            raise ValueError("not a cursor")
        return Cursor(None, int(pk_text))
    key = datetime.fromisoformat(key_text)
    if key.tzinfo is None or not 1900 <= key.year <= 9000:
        raise ValueError("not a cursor")
    return Cursor(key.astimezone(UTC), int(pk_text))


def _ordering(sort: SortKey, reverse: bool) -> list[OrderBy]:
    descending = sort.descending != reverse
    nulls: dict[str, bool] = {}
    if sort.nullable:
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    key = F(sort.field).desc(**nulls) if descending else F(sort.field).asc(**nulls)
    pk = F("pk").desc() if descending else F("pk").asc()
    return [key, pk]


def _beyond(sort: SortKey, cursor: Cursor, reverse: bool) -> Q:
    """Rows strictly after the cursor in the sort's order (``reverse``: strictly before)."""
    descending = sort.descending != reverse
    past = "lt" if descending else "gt"
    reach = "lte" if descending else "gte"
    f = sort.field
    if cursor.key is None:
        # The cursor is among the nulls, which come last.
        same = Q(**{f"{f}__isnull": True, f"pk__{past}": cursor.pk})
        return Q(**{f"{f}__isnull": False}) | same if reverse else same
    # key beyond, or the same key and the pk beyond: written so an index on the key can
    # bound the scan (key <= k AND (key < k OR pk < p)).
    condition = Q(**{f"{f}__{reach}": cursor.key}) & (
        Q(**{f"{f}__{past}": cursor.key}) | Q(**{f"pk__{past}": cursor.pk})
    )
    if sort.nullable and not reverse:
        condition |= Q(**{f"{f}__isnull": True})
    return condition


@dataclass
class Page:
    rows: list[Any]
    has_previous: bool
    has_next: bool
    first_page: bool


def _read(
    queryset: QuerySet[ProfessionalDifference, Any],
    sort: SortKey,
    cursor: Cursor | None,
    *,
    reverse: bool,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` rows in the sort's order (``reverse``: backwards) past ``cursor``.

    A nullable key is read as two segments, the rows with a key (in key order) and the rows
    without (in primary-key order), each an inner-joined query that can walk an index and
    stop at the limit; one query ordering by a key that may be null (a LEFT JOIN) must
    read and sort every visible row first.
    """
    if not sort.nullable:
        if cursor is not None:
            queryset = queryset.filter(_beyond(sort, cursor, reverse=reverse))
        return list(queryset.order_by(*_ordering(sort, reverse=reverse))[:limit])
    f = sort.field
    keyed = queryset.filter(**{f"{f}__isnull": False})
    unkeyed = (
        sort.without_key(queryset)
        if sort.without_key is not None
        else queryset.filter(**{f"{f}__isnull": True})
    )
    key_order = _ordering(sort, reverse=reverse)
    pk_order = F("pk").desc() if sort.descending != reverse else F("pk").asc()
    past = "lt" if sort.descending != reverse else "gt"
    if cursor is not None and cursor.key is not None:
        reach = "lte" if sort.descending != reverse else "gte"
        keyed = keyed.filter(
            Q(**{f"{f}__{reach}": cursor.key})
            & (Q(**{f"{f}__{past}": cursor.key}) | Q(**{f"pk__{past}": cursor.pk}))
        )
    elif cursor is not None:
        unkeyed = unkeyed.filter(**{f"pk__{past}": cursor.pk})
    # Nulls come last going forwards, so first going backwards.
    segments = [(unkeyed, [pk_order]), (keyed, key_order)]
    if not reverse:
        segments.reverse()
    if cursor is not None and cursor.key is None:
        # Inside the nulls: forwards there is nothing keyed after them; backwards the
        # keyed rows all come after the rest of the nulls.
        segments = segments if reverse else [(unkeyed, [pk_order])]
    elif cursor is not None and reverse:
        segments = [(keyed, key_order)]
    rows: list[Any] = []
    for segment, order in segments:
        if len(rows) >= limit:
            break  # the page is full: a later segment is not read (one query, not two)
        rows.extend(segment.order_by(*order)[: limit - len(rows)])
    return rows


def keyset_page(
    queryset: QuerySet[ProfessionalDifference, Any],
    sort: SortKey,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of ``queryset`` after (or before) a cursor: size + 1 rows are read to know
    whether there is a next page; nothing is counted and nothing is skipped over."""
    if before is not None:
        rows = _read(queryset, sort, before, reverse=True, limit=size + 1)
        if len(rows) >= size:
            first_page = len(rows) == size  # nothing before these: they are the first page
            rows = rows[:size]
            rows.reverse()
            return Page(rows, has_previous=not first_page, has_next=True, first_page=first_page)
        # Fewer than a page before the cursor (cases were taken out of the list meanwhile):
        # show the first page as it is now.
        after = None
    rows = _read(queryset, sort, after, reverse=False, limit=size + 1)
    has_next = len(rows) > size
    return Page(
        rows[:size], has_previous=after is not None, has_next=has_next, first_page=after is None
    )


def cursor_of(case: Any, sort: SortKey) -> Cursor:
    return Cursor(getattr(case, sort.field), case.pk)


# -- the view ---------------------------------------------------------------------------------


def _partnership_ids(user: Any) -> list[int]:
    held = roles_held(user)
    return sorted(set(held.by_partnership) | set(held.agency_partnership.values()))


def _link(params: QueryDict, **changes: str) -> str:
    query = params.copy()
    for name in ("after", "before", "start"):
        query.pop(name, None)
    for name, value in changes.items():
        query[name] = value
    return f"?{query.urlencode()}"


def _positive_int(text: str | None) -> int | None:
    if text and text.isdigit() and len(text) < 10 and int(text) > 0:
        return int(text)
    return None


def _selects(
    form: CaseFilterForm, configs: Sequence[PartnershipConfig]
) -> list[tuple[Any, list[tuple[Any, str, bool]]]]:
    """Each drop-down with its options and whether each is the one chosen, the field's value
    read once a drop-down. The agencies and categories are the person's partnerships', from
    their cached configuration (the same rows, in the same order, as the fields' querysets,
    which only validate a choice made)."""
    listed = {
        "agency": [choice for config in configs for choice in config.agencies],
        "category": [choice for config in configs for choice in config.categories],
    }
    selects = []
    for name in ("status", "stage", "agency", "category", "sort"):
        field: Any = form.fields[name]
        bound = form[name]
        chosen = str(bound.value())
        if name in listed:
            choices: list[tuple[Any, str]] = [("", str(field.empty_label or ""))]
            choices += [(choice.pk, choice.name) for choice in listed[name]]
        else:
            choices = list(field.choices)
        selects.append((bound, [(value, label, str(value) == chosen) for value, label in choices]))
    return selects


@login_required
@require_safe
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases this person may see, with filters, search, sorting and keyset paging."""
    user: Any = request.user
    partnership_ids = _partnership_ids(user)
    form = CaseFilterForm(request.GET or None, partnership_ids=partnership_ids)
    if form.is_bound:
        form.is_valid()
    filters = form.filters()
    sort_name = filters.get("sort") or SORT_NEWEST
    sort = SORTS[sort_name]

    after = before = None
    cursor_problem = False
    for name in ("after", "before"):
        text = request.GET.get(name)
        if text is None:
            continue
        try:
            cursor = cursor_decode(text, sort)
        except ValueError:
            cursor_problem = True
            continue
        if name == "after":
            after = cursor
        else:
            before = cursor
    if after is not None and before is not None:
        after = before = None
        cursor_problem = True
    if cursor_problem:
        form.add_error(None, BAD_CURSOR)

    queryset = differences_filtered(differences_visible_to_for_pages(user), user, filters)
    if sort_name == SORT_DUE:
        queryset = differences_with_due_at(queryset)
    # Rows as named tuples of the columns a row shows, not models: fifty model instances
    # (each checking its state fields for django-fsm) cost more than the page's query.
    columns = ROW_COLUMNS if sort.field in ROW_COLUMNS else (*ROW_COLUMNS, sort.field)
    page = keyset_page(
        queryset.values_list(*columns, named=True),
        sort,
        after=after,
        before=before,
        size=PAGE_SIZE,
    )
    # Where the page starts, for "Showing 51 to 100": carried in the links, never counted.
    start = 1 if page.first_page else _positive_int(request.GET.get("start"))
    if start is not None and before is not None and not page.first_page:
        start = max(1, start - PAGE_SIZE)
    params = request.GET
    next_url = previous_url = ""
    if page.rows and page.has_next:
        changes = {"after": cursor_of(page.rows[-1], sort).encode()}
        if start is not None:
            changes["start"] = str(start + len(page.rows))
        next_url = _link(params, **changes)
    if page.rows and page.has_previous:
        changes = {"before": cursor_of(page.rows[0], sort).encode()}
        if start is not None:
            changes["start"] = str(start)
        previous_url = _link(params, **changes)

    showing_to = start + len(page.rows) - 1 if start is not None else None
    context = {
        "form": form,
        "selects": _selects(form, list(partnership_configs(partnership_ids).values())),
        # The fields by kind, named here rather than found by looping over the form in the
        # template (each loop makes every field's widget type with a regular expression).
        "date_fields": [form["raised_from"], form["raised_to"]],
        "checkbox_fields": [form["breached"], form["urgent"], form["mine"]],
        "rows": case_rows(page.rows),
        "showing_from": start,
        "showing_to": showing_to,
        "shown": len(page.rows),
        # Known without counting only on the last page.
        "total": showing_to if not page.has_next else None,
        "next_url": next_url,
        "previous_url": previous_url,
        "is_filtered": form.is_filtered(),
        "clear_url": request.path,
    }
    return render(request, "escalations/case_list.html", context)


urlpatterns: list[URLPattern] = [path("cases/", case_list, name="case_list")]
