"""Demo data: one partnership, six agencies, a person in every role, a dozen cases.

Idempotent: people, agencies and roles are made if missing; the cases are made once. The
cases are raised through the services with the clock moved back (time-machine), so their
chronologies and stage clocks are real, and some stages are overdue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agencies.models import (
    Agency,
    AgencyRole,
    AgencyType,
    Category,
    Partnership,
    PartnershipRole,
)
from agencies.services import (
    agency_create,
    agency_membership_grant,
    partnership_create,
    partnership_membership_grant,
)
from escalations import deadlines, services
from escalations.models import ProfessionalDifference
from escalations.services import ActionDetails, ChildDetails, NamedProfessionalDetails
from escalations.states import Context

DEMO_PASSWORD = "demo-safeguarding-2026"
PARTNERSHIP_SLUG = "northmoor"
LONDON = ZoneInfo("Europe/London")

# (username prefix, agency name, agency type)
AGENCIES: tuple[tuple[str, str, str], ...] = (
    ("csc", "Northmoor Children's Social Care", AgencyType.CHILDRENS_SOCIAL_CARE),
    ("police", "Northmoor Police", AgencyType.POLICE),
    ("icb", "NHS Northmoor Integrated Care Board", AgencyType.ICB),
    ("trust", "Northmoor Community Health NHS Trust", AgencyType.NHS_TRUST),
    ("school", "Riverside Primary School", AgencyType.SCHOOL),
    ("nursery", "Little Acorns Nursery", AgencyType.EARLY_YEARS),
)

FIRST_NAMES = {
    "practitioner": "Sam",
    "line_manager": "Alex",
    "safeguarding_lead": "Jo",
    "senior_manager": "Chris",
    "director": "Pat",
}

PARTNERSHIP_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("business.manager", "Morgan Lee", PartnershipRole.BUSINESS_MANAGER),
    ("prg.member", "Robin Shah", PartnershipRole.FINAL_REFERRAL_MEMBER),
    ("admin", "Ashley Ward", PartnershipRole.ADMINISTRATOR),
)

ADMIN_MODEL_PERMISSIONS = (
    (
        "agencies",
        (
            "partnership",
            "agency",
            "agencymembership",
            "partnershipmembership",
            "category",
            "stagetimeframe",
            "closureday",
        ),
    ),
    ("escalations", ("professionaldifference",)),
    ("auth", ("user",)),
)


def username(prefix: str, role: str) -> str:
    return f"{prefix}.{role.replace('_', '.')}"


class Command(BaseCommand):
    help = "Create demo data (idempotent) and print the demo logins."

    _password_hash: str | None = None

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            partnership, people = self._directory()
        if not ProfessionalDifference.objects.filter(partnership=partnership).exists():
            self._cases(partnership, people)
            self.stdout.write(self.style.SUCCESS("Demo cases created."))
        else:
            self.stdout.write("Demo cases already exist; left as they are.")
        self._print_logins()

    # -- people ---------------------------------------------------------------------------

    def _user(self, name: str, full_name: str, *, staff: bool = False) -> Any:
        user_model = get_user_model()
        first, _, last = full_name.partition(" ")
        user, created = user_model.objects.get_or_create(
            username=name,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{name}@demo.invalid",
                "is_staff": staff,
            },
        )
        if created:
            # One hash for every demo person: hashing 35 times would take ten seconds.
            if self._password_hash is None:
                self._password_hash = make_password(DEMO_PASSWORD)
            user.password = self._password_hash
            user.save(update_fields=["password"])
        return user

    def _directory(self) -> tuple[Partnership, dict[str, Any]]:
        partnership = Partnership.objects.filter(slug=PARTNERSHIP_SLUG).first()
        if partnership is None:
            partnership = partnership_create(
                name="Northmoor Safeguarding Children Partnership",
                slug=PARTNERSHIP_SLUG,
                final_referral_body_name="Practice Review Group",
                protocol_title="Practice Resolution Protocol",
                protocol_version="2024.1",
            )
        people: dict[str, Any] = {}
        for prefix, agency_name, agency_type in AGENCIES:
            agency = Agency.objects.filter(partnership=partnership, name=agency_name).first()
            if agency is None:
                agency = agency_create(
                    partnership=partnership, name=agency_name, agency_type=agency_type
                )
            people[prefix] = agency
            for role in AgencyRole.values:
                surname = agency_name.split()[1] if prefix != "csc" else "Carter"
                user = self._user(username(prefix, role), f"{FIRST_NAMES[role]} {surname}")
                agency_membership_grant(
                    user=user, agency=agency, role=role, job_title=AgencyRole(role).label
                )
                people[username(prefix, role)] = user
        admins = Group.objects.get_or_create(name="Partnership administrators (admin site)")[0]
        for app_label, models in ADMIN_MODEL_PERMISSIONS:
            admins.permissions.add(
                *Permission.objects.filter(content_type__app_label=app_label).filter(
                    content_type__model__in=models
                )
            )
        for name, full_name, role in PARTNERSHIP_PEOPLE:
            user = self._user(name, full_name, staff=role == PartnershipRole.ADMINISTRATOR)
            partnership_membership_grant(user=user, partnership=partnership, role=role)
            if role == PartnershipRole.ADMINISTRATOR:
                user.groups.add(admins)
            people[name] = user
        return partnership, people

    # -- cases ----------------------------------------------------------------------------

    @contextmanager
    def _clock(self, days_ago: float) -> Iterator[Any]:
        import time_machine  # a development dependency: demo data is not for production

        start = timezone.now() - timedelta(days=days_ago)
        with time_machine.travel(start, tick=False) as traveller:
            yield traveller

    def _cases(self, partnership: Partnership, p: dict[str, Any]) -> None:
        categories = {c.position: c for c in Category.objects.filter(partnership=partnership)}

        def raise_case(
            raiser: str,
            against: tuple[str, ...],
            child: ChildDetails,
            category: int,
            context: str,
            issue: str,
            **kwargs: Any,
        ) -> ProfessionalDifference:
            agency_prefix = raiser.split(".")[0]
            named = [
                NamedProfessionalDetails(
                    agency=p[prefix],
                    name=p[username(prefix, "practitioner")].get_full_name(),
                    role="Practitioner",
                    user=p[username(prefix, "practitioner")],
                )
                for prefix in against[:1]
            ]
            return services.difference_raise(
                actor=p[raiser],
                raiser_agency=p[agency_prefix],
                children=[child],
                other_agencies=[p[prefix] for prefix in against],
                category=categories[category],
                context=context,
                issue=issue,
                named_professionals=named,
                **kwargs,
            )

        def child(name: str, born: date, school: str = "Riverside Primary School") -> ChildDetails:
            return ChildDetails(
                name=name,
                date_of_birth=born,
                address="12 Example Row, Northmoor NM1 2AB",
                school=school,
                lead_professional="Sam Carter (social worker)",
            )

        def working_days_ago(n: int) -> float:
            # Calendar days back that cover n working days (weekends included).
            return n + 2 * ((n + 4) // 5)

        s = services
        # 1. identified
        with self._clock(0.1):
            raise_case(
                "school.safeguarding.lead",
                ("csc",),
                child("Amira Khan", date(2016, 3, 4)),
                0,
                Context.CHILD_PROTECTION_REFERRAL,
                "Our referral about bruising was closed as 'no further action' without a "
                "strategy discussion; we think the threshold for a section 47 enquiry is met.",
            )
        # 2. clarification
        with self._clock(1):
            case = raise_case(
                "trust.practitioner",
                ("csc",),
                child("Leo Brown", date(2023, 7, 19), ""),
                1,
                Context.EARLY_HELP,
                "The early help assessment concluded no further support is needed; the health "
                "visitor has continuing concerns about weight loss and missed appointments.",
            )
            s.difference_start_clarification(actor=p["trust.practitioner"], difference_id=case.pk)
        # 3. Stage 1, overdue
        with self._clock(working_days_ago(9)) as clock:
            case = raise_case(
                "police.practitioner",
                ("csc",),
                child("Maya Wilson", date(2012, 11, 2)),
                2,
                Context.OPEN_CASE,
                "Three domestic abuse notifications have been shared but the child's plan has "
                "not been reviewed; roles for safety planning are unclear.",
            )
            s.difference_start_clarification(actor=p["police.practitioner"], difference_id=case.pk)
            clock.shift(timedelta(days=1))
            s.difference_begin_stage_1(
                actor=p["police.practitioner"],
                difference_id=case.pk,
                clarification="Spoke to my sergeant and the DA coordinator: the notifications "
                "were received by the front door but not linked to the open case.",
            )
        # 4. Stage 1, in time
        with self._clock(1):
            case = raise_case(
                "nursery.practitioner",
                ("trust",),
                child("Ella Green", date(2022, 1, 30), "Little Acorns Nursery"),
                5,
                Context.CHILD_IN_NEED,
                "Information about a change of address and a new adult in the household has "
                "not been shared with the nursery.",
            )
            s.difference_start_clarification(actor=p["nursery.practitioner"], difference_id=case.pk)
            s.difference_begin_stage_1(
                actor=p["nursery.practitioner"],
                difference_id=case.pk,
                clarification="Checked with our safeguarding lead: the consent form covers it.",
            )
        # 5. Stage 2 on the urgent track, overdue
        with self._clock(3):
            raise_case(
                "police.practitioner",
                ("csc", "school"),
                child("Noah Patel", date(2010, 5, 12)),
                0,
                Context.CHILD_PROTECTION_REFERRAL,
                "A 15-year-old reported missing three times this week; we believe a strategy "
                "meeting is needed today and children's social care has declined one.",
                is_urgent=True,
                urgent_manager=p["police.line.manager"],
            )
        # 6. Stage 3
        with self._clock(4) as clock:
            case = raise_case(
                "icb.practitioner",
                ("csc",),
                child("Isla Thomas", date(2019, 9, 9)),
                7,
                Context.CHILD_PROTECTION_CONFERENCE,
                "Health actions in the child protection plan were allocated without the health "
                "professionals at the conference agreeing them.",
            )
            self._walk_to_stage_2(s, p, case, "icb.practitioner", clock)
            s.difference_escalate(
                actor=p["icb.line.manager"],
                difference_id=case.pk,
                reason="Stage 2 discussion between managers did not agree who leads.",
                oversight_note="Reviewed the plan and the minutes; escalating.",
            )
        # 7. Stage 4, overdue
        with self._clock(working_days_ago(16)) as clock:
            case = raise_case(
                "school.practitioner",
                ("police",),
                child("Ruby Evans", date(2011, 2, 14)),
                5,
                Context.OPEN_CASE,
                "The school has not been told of the outcome of a police investigation that "
                "affects the child's safety on the school site.",
            )
            self._walk_to_stage_2(s, p, case, "school.practitioner", clock)
            clock.shift(timedelta(days=2))
            s.difference_escalate(
                actor=p["school.safeguarding.lead"],
                difference_id=case.pk,
                reason="Police say disclosure needs a request from the local authority.",
            )
            clock.shift(timedelta(days=2))
            s.difference_escalate(
                actor=p["school.senior.manager"],
                difference_id=case.pk,
                reason="Senior managers did not agree the information-sharing basis.",
            )
        # 8. final referral
        with self._clock(30) as clock:
            case = raise_case(
                "csc.practitioner",
                ("icb", "trust"),
                child("Oliver Hughes", date(2015, 6, 1)),
                3,
                Context.LOOKED_AFTER_CHILD,
                "A looked-after child's therapeutic service was withdrawn at short notice.",
            )
            self._walk_to_stage_2(s, p, case, "csc.practitioner", clock)
            clock.shift(timedelta(days=3))
            s.difference_escalate(
                actor=p["csc.line.manager"],
                difference_id=case.pk,
                reason="No agreement.",
            )
            clock.shift(timedelta(days=3))
            s.difference_escalate(
                actor=p["csc.senior.manager"],
                difference_id=case.pk,
                reason="No agreement.",
            )
            clock.shift(timedelta(days=5))
            s.difference_escalate(
                actor=p["csc.director"],
                difference_id=case.pk,
                reason="Directors could not agree funding; referred to the Practice Review Group.",
            )
        # 9. partially resolved at Stage 2
        with self._clock(8) as clock:
            case = raise_case(
                "trust.practitioner",
                ("police",),
                child("Freya Clarke", date(2018, 4, 23)),
                4,
                Context.CHILD_IN_NEED,
                "Police have not attended two core group meetings.",
            )
            self._walk_to_stage_2(s, p, case, "trust.practitioner", clock)
            s.difference_record_outcome(
                actor=p["trust.line.manager"],
                difference_id=case.pk,
                outcome="partially_resolved",
                summary="Police will attend the next core group; the record of the missed "
                "meetings is still disputed.",
                actions=[
                    ActionDetails(
                        "Police representative to attend the core group",
                        "Northmoor Police line manager",
                        date.today() + timedelta(days=10),
                    )
                ],
            )
        # 10. resolved at Stage 1 → learning review
        with self._clock(12) as clock:
            case = raise_case(
                "csc.practitioner",
                ("school",),
                child("Jack Robinson", date(2014, 8, 8)),
                5,
                Context.OPEN_CASE,
                "School did not share attendance concerns for six weeks.",
            )
            s.difference_start_clarification(actor=p["csc.practitioner"], difference_id=case.pk)
            s.difference_begin_stage_1(
                actor=p["csc.practitioner"],
                difference_id=case.pk,
                clarification="Checked the school's attendance records with my manager.",
            )
            clock.shift(timedelta(days=2))
            s.difference_record_outcome(
                actor=p["csc.practitioner"],
                difference_id=case.pk,
                outcome="resolved",
                summary="The school will share weekly attendance with the social worker.",
                actions=[
                    ActionDetails(
                        "Weekly attendance to the social worker",
                        "Riverside DSL",
                        date.today() + timedelta(days=30),
                    )
                ],
            )
        # 11. withdrawn → learning review
        with self._clock(6):
            case = raise_case(
                "nursery.practitioner",
                ("csc",),
                child("Sophie Turner", date(2021, 12, 3), "Little Acorns Nursery"),
                0,
                Context.EARLY_HELP,
                "Referral for early help not acknowledged.",
            )
            s.difference_start_clarification(actor=p["nursery.practitioner"], difference_id=case.pk)
            s.difference_withdraw(
                actor=p["nursery.practitioner"],
                difference_id=case.pk,
                reason="The early help hub confirmed the referral is allocated; action already "
                "in hand.",
            )
        # 12. closed after learning review
        with self._clock(40) as clock:
            case = raise_case(
                "icb.practitioner",
                ("police",),
                child("Harry Walker", date(2013, 10, 10)),
                6,
                Context.CHILD_PROTECTION_CONFERENCE,
                "Police did not provide a report to the initial child protection conference.",
            )
            self._walk_to_stage_2(s, p, case, "icb.practitioner", clock)
            s.difference_record_outcome(
                actor=p["icb.safeguarding.lead"],
                difference_id=case.pk,
                outcome="resolved",
                summary="Police agreed a standard for conference reports.",
            )
            clock.shift(timedelta(days=10))
            s.difference_close(
                actor=p["business.manager"],
                difference_id=case.pk,
                learning="Conference invitations must go to the police public protection unit "
                "mailbox, not to individual officers.",
                protocol_amendment_recommended=False,
            )
        # 13. not resolved after the final referral → learning review
        with self._clock(60) as clock:
            case = raise_case(
                "school.safeguarding.lead",
                ("csc",),
                child("Grace Lewis", date(2009, 1, 20)),
                9,
                Context.CHILD_IN_NEED,
                "Case closed to children's social care while concerns about neglect continue.",
            )
            self._walk_to_stage_2(s, p, case, "school.safeguarding.lead", clock)
            for actor in ("school.line.manager", "school.senior.manager", "business.manager"):
                clock.shift(timedelta(days=4))
                s.difference_escalate(actor=p[actor], difference_id=case.pk, reason="No agreement.")
            clock.shift(timedelta(days=10))
            s.difference_record_outcome(
                actor=p["prg.member"],
                difference_id=case.pk,
                outcome="not_resolved",
                summary="The Practice Review Group upheld the step-down decision and asked for "
                "a review in three months.",
            )
        # 14. Stage 1 falling due two minutes from now, to watch the scan flag a breach
        case = raise_case(
            "trust.safeguarding.lead",
            ("school",),
            child("Oscar Reid", date(2017, 3, 15)),
            4,
            Context.OPEN_CASE,
            "The school has not put in place the health care plan agreed at the last review.",
        )
        s.difference_start_clarification(actor=p["trust.safeguarding.lead"], difference_id=case.pk)
        s.difference_begin_stage_1(
            actor=p["trust.safeguarding.lead"],
            difference_id=case.pk,
            clarification="Checked the plan with the school nurse: it was agreed and not started.",
        )
        deadlines.stage_clock_shorten(
            actor=p["trust.safeguarding.lead"],
            difference_id=case.pk,
            due_at=timezone.now() + timedelta(minutes=2),
            reason="Demo: this stage falls due two minutes after the demo data is made.",
        )

    def _walk_to_stage_2(
        self, s: Any, p: dict[str, Any], case: ProfessionalDifference, raiser: str, clock: Any
    ) -> None:
        s.difference_start_clarification(actor=p[raiser], difference_id=case.pk)
        clock.shift(timedelta(hours=20))
        s.difference_begin_stage_1(
            actor=p[raiser],
            difference_id=case.pk,
            clarification="Consulted my line manager; the concern stands.",
        )
        clock.shift(timedelta(days=1))
        s.difference_escalate(
            actor=p[raiser],
            difference_id=case.pk,
            reason="The practitioner discussion did not resolve it.",
        )

    def _print_logins(self) -> None:
        write = self.stdout.write
        write("")
        write(f"Demo logins (every password: {DEMO_PASSWORD})")
        write("  admin                  partnership administrator (Django admin at /admin/)")
        write("  business.manager       partnership business manager")
        write("  prg.member             Practice Review Group member")
        roles = ", ".join(role.replace("_", ".") for role in AgencyRole.values)
        for prefix, agency_name, _ in AGENCIES:
            write(f"  {prefix}.<role>  {agency_name}")
        write(f"  where <role> is one of: {roles}")
        write("")
        write(
            "Two-factor sign-in: no demo person has an authenticator yet, so each one's first "
            "sign-in asks to set one up."
        )
        write(
            "  Any authenticator app works (Microsoft or Google Authenticator, 1Password, ...): "
            "scan the QR code, or copy the secret key shown under it into the app; then type "
            "the 6-digit code. Keep the recovery codes shown next if you will sign in again."
        )
