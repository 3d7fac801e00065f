"""Partnerships, their agencies, and the roles people hold in them.

A person's role is held per agency (or per partnership for partnership roles). Each
(agency, role) and (partnership, role) pair has its own auth Group: django-guardian grants
case visibility to those groups, so membership of a group *is* holding the role.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class Nation(models.TextChoices):
    ENGLAND_WALES = "england_wales", "England and Wales"
    SCOTLAND = "scotland", "Scotland"
    NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"


class NotificationStage(models.TextChoices):
    """The stages at which a partnership may ask its business manager to be told."""

    STAGE_1 = "stage_1", "Stage 1"
    STAGE_2 = "stage_2", "Stage 2"
    STAGE_3 = "stage_3", "Stage 3"
    STAGE_4 = "stage_4", "Stage 4"
    FINAL_REFERRAL = "final_referral", "Final referral"


class Partnership(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    nation = models.CharField(
        max_length=20,
        choices=Nation.choices,
        default=Nation.ENGLAND_WALES,
        help_text="Whose bank holidays the stage clocks skip.",
    )
    final_referral_body_name = models.CharField(
        max_length=200,
        default="Practice Review Group",
        help_text='e.g. "Practice Review Group" or "Chair of the Safeguarding Children '
        'Partnership".',
    )
    notification_stage = models.CharField(
        max_length=20,
        choices=NotificationStage.choices,
        default=NotificationStage.STAGE_3,
        help_text="The business manager is told when a case reaches this stage.",
    )
    protocol_title = models.CharField(
        max_length=200, default="Protocol for Resolving Professional Differences"
    )
    protocol_version = models.CharField(max_length=50, default="1")
    retention_years = models.PositiveSmallIntegerField(
        default=7,
        help_text="Years a closed case is kept before it is due for review and deletion.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgencyType(models.TextChoices):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    POLICE = "police", "Police"
    ICB = "icb", "Integrated Care Board"
    NHS_TRUST = "nhs_trust", "NHS trust"
    GP_PRACTICE = "gp_practice", "GP practice"
    SCHOOL = "school", "School"
    EARLY_YEARS = "early_years", "Early years"
    PROBATION = "probation", "Probation"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    HOUSING = "housing", "Housing"
    VOLUNTARY = "voluntary", "Voluntary, community or faith"
    OTHER = "other", "Other"


class Agency(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="agencies")
    name = models.CharField(max_length=200)
    agency_type = models.CharField(max_length=40, choices=AgencyType.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["partnership", "name"]
        verbose_name_plural = "agencies"
        constraints = [
            models.UniqueConstraint(fields=["partnership", "name"], name="agency_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class AgencyRole(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    LINE_MANAGER = "line_manager", "Line manager"
    SAFEGUARDING_LEAD = "safeguarding_lead", "Named or designated safeguarding lead"
    SENIOR_MANAGER = "senior_manager", "Senior manager or agency safeguarding lead"
    DIRECTOR = "director", "Director"


class PartnershipRole(models.TextChoices):
    BUSINESS_MANAGER = "business_manager", "Partnership business manager"
    FINAL_REFERRAL_MEMBER = "final_referral_member", "Final-referral body member"
    ADMINISTRATOR = "administrator", "Partnership administrator"


class AgencyMembership(models.Model):
    """A person holding one role in one agency."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_memberships"
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=AgencyRole.choices)
    job_title = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["agency", "role", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agency", "role"], name="agency_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.agency}"


class PartnershipMembership(models.Model):
    """A person holding one partnership-wide role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partnership_memberships"
    )
    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=PartnershipRole.choices)

    class Meta:
        ordering = ["partnership", "role", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "partnership", "role"], name="partnership_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.partnership}"


class AgencyRoleGroup(models.Model):
    """The auth Group that stands for everyone holding ``role`` in ``agency``."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="role_groups")
    role = models.CharField(max_length=30, choices=AgencyRole.choices)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="agency_role")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "role"], name="agency_role_group_unique"),
        ]

    def __str__(self) -> str:
        return self.group.name


class PartnershipRoleGroup(models.Model):
    """The auth Group that stands for everyone holding ``role`` in ``partnership``."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="role_groups"
    )
    role = models.CharField(max_length=30, choices=PartnershipRole.choices)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="partnership_role")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "role"], name="partnership_role_group_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.group.name


class ClosureDay(models.Model):
    """A local closure day the partnership's stage clocks skip, besides bank holidays."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="closure_days"
    )
    date = models.DateField()
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["partnership", "date"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "date"], name="closure_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d %B %Y} {self.description}".strip()


class Category(models.Model):
    """A kind of professional difference, configurable per partnership."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["partnership", "position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["partnership", "name"], name="category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


DEFAULT_CATEGORIES = (
    "Criteria for referrals or thresholds",
    "Outcomes of assessments",
    "Roles and responsibilities",
    "Service provision",
    "Timeliness or drift",
    "Information sharing and communication",
    "Child protection conference decisions",
    "Child protection plan implementation",
    "Early help or CAF decisions",
    "Step-down or case closure",
)


class Track(models.TextChoices):
    STANDARD = "standard", "Standard"
    URGENT = "urgent", "Urgent"


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", "working days"
    HOURS = "hours", "hours"


class TimedStage(models.TextChoices):
    CLARIFICATION = "clarification", "Clarification"
    STAGE_1 = "stage_1", "Stage 1"
    STAGE_2 = "stage_2", "Stage 2"
    STAGE_3 = "stage_3", "Stage 3"
    STAGE_4 = "stage_4", "Stage 4"
    FINAL_REFERRAL = "final_referral", "Final referral"


# Spec §4 defaults for a new partnership: (standard, urgent), each (value, unit).
DEFAULT_TIMEFRAMES: dict[str, tuple[tuple[int, str], tuple[int, str]]] = {
    TimedStage.CLARIFICATION: ((2, TimeUnit.WORKING_DAYS), (4, TimeUnit.HOURS)),
    TimedStage.STAGE_1: ((5, TimeUnit.WORKING_DAYS), (1, TimeUnit.WORKING_DAYS)),
    TimedStage.STAGE_2: ((5, TimeUnit.WORKING_DAYS), (1, TimeUnit.WORKING_DAYS)),
    TimedStage.STAGE_3: ((5, TimeUnit.WORKING_DAYS), (2, TimeUnit.WORKING_DAYS)),
    TimedStage.STAGE_4: ((10, TimeUnit.WORKING_DAYS), (3, TimeUnit.WORKING_DAYS)),
    TimedStage.FINAL_REFERRAL: ((20, TimeUnit.WORKING_DAYS), (5, TimeUnit.WORKING_DAYS)),
}


class StageTimeframe(models.Model):
    """How long a stage may take in a partnership, on the standard or the urgent track."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="timeframes"
    )
    stage = models.CharField(max_length=20, choices=TimedStage.choices)
    track = models.CharField(max_length=10, choices=Track.choices)
    value = models.PositiveSmallIntegerField()
    unit = models.CharField(max_length=20, choices=TimeUnit.choices)

    class Meta:
        ordering = ["partnership", "track", "stage"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "stage", "track"], name="stage_timeframe_unique"
            ),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="timeframe_positive"),
        ]

    def __str__(self) -> str:
        stage, track = self.get_stage_display(), self.get_track_display()
        return f"{stage} ({track}): {self.value} {self.get_unit_display()}"
