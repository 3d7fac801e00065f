"""Spec §3 and §5 written out a second time, independently of the app's code, as the oracle
the tests compare the app against."""

from __future__ import annotations

from typing import Any

S1, S2, S3, S4, FR = "stage_1", "stage_2", "stage_3", "stage_4", "final_referral"

# Personas of the test world (see tests/conftest.py) by what they hold.
RAISER = "raiser"
PERSONAS = (
    "raiser",
    "a_other_practitioner",
    "a_line_manager",
    "a_safeguarding_lead",
    "a_senior_manager",
    "a_director",
    "b_practitioner",  # named on every test case
    "b_line_manager",
    "b_safeguarding_lead",
    "b_senior_manager",
    "b_director",
    "c_practitioner",
    "c_line_manager",
    "c_safeguarding_lead",
    "c_senior_manager",
    "c_director",
    "d_line_manager",
    "d_director",
    "business_manager",
    "final_body_member",
    "administrator",
    "q_business_manager",
    "q_final_body_member",
    "outsider",
    "superuser",
)

# Stage owner of the raising agency (A) at each stage, for outcomes (spec §3).
_A_OWNERS = {
    S2: {"a_line_manager", "a_safeguarding_lead"},
    S3: {"a_senior_manager"},
    S4: {"a_director"},
}


def allowed(method: str, status: str, stage: str) -> set[str]:
    """Who may take ``method`` from a case in ``status`` (at ``stage``); empty if nobody."""
    partial = status == "partially_resolved"
    at = stage if partial else status
    if method == "start_clarification":
        return {RAISER} if status == "identified" else set()
    if method in ("withdraw", "begin_stage_1"):
        return {RAISER} if status == "clarification" else set()
    escalations = {
        "escalate_to_stage_2": (S1, {RAISER}),
        "escalate_to_stage_3": (
            S2,
            {"a_line_manager", "a_safeguarding_lead", "b_line_manager", "b_safeguarding_lead"},
        ),
        "escalate_to_stage_4": (S3, {"a_senior_manager", "b_senior_manager"}),
        "refer_to_final_body": (S4, {"a_director", "b_director", "business_manager"}),
    }
    if method in escalations:
        from_stage, who = escalations[method]
        return who if (status == from_stage or (partial and stage == from_stage)) else set()
    if method in ("resolve", "resolve_partially"):
        if status == FR:
            return {"final_body_member", "business_manager"}
        if status == S1:
            return {RAISER}
        if status in _A_OWNERS:
            return {RAISER} | _A_OWNERS[status]
        return set()
    if method == "record_not_resolved":
        return {"final_body_member", "business_manager"} if status == FR else set()
    if method == "accept_partial_outcome":
        if not partial or at == FR:
            return set()
        return {RAISER} | _A_OWNERS.get(at, set())
    if method == "close":
        return {"business_manager"} if status == "learning_review" else set()
    # open_urgent_track (only on urgent cases), begin_learning_review and
    # end_partial_final_referral (the system's own) are nobody's on a standard case.
    return set()


RANK = {"identified": 0, "clarification": 1, S1: 2, S2: 3, S3: 4, S4: 5, FR: 6}


def may_see(persona: str, highest_stage: str) -> bool:
    """Spec §5 for a case raised by A's practitioner against B, naming B's practitioner."""
    rank = RANK[highest_stage]
    if persona in ("raiser", "b_practitioner", "business_manager"):
        return True
    if persona in (
        "a_line_manager",
        "a_safeguarding_lead",
        "b_line_manager",
        "b_safeguarding_lead",
    ):
        return True
    if persona in ("a_senior_manager", "b_senior_manager"):
        return rank >= RANK[S3]
    if persona in ("a_director", "b_director"):
        return rank >= RANK[S4]
    if persona == "final_body_member":
        return rank >= RANK[FR]
    return False


def visible_set(world: Any, highest_stage: str) -> set[int]:
    """The ids of the personas that may see such a case."""
    return {world.people[p].pk for p in PERSONAS if may_see(p, highest_stage)}
