"""What the services refuse, with the messages people see (constants, so tests assert on
them)."""

from __future__ import annotations

IN_HOUSE_PROCEDURES = (
    "This process is for differences between agencies. The other party is your own agency, so "
    "please follow your agency's in-house procedures for resolving internal disagreements."
)
NO_OTHER_AGENCY = "Choose at least one other agency that the difference is with."
NO_CHILD = "Add at least one child the difference is about."
AGENCY_OUTSIDE_PARTNERSHIP = "Every agency must belong to the same safeguarding partnership."
NOT_A_MEMBER_OF_AGENCY = "You can only raise a difference on behalf of an agency you work for."
URGENT_NEEDS_MANAGER = (
    "To use the urgent track, name the line manager or safeguarding lead of your agency who "
    "agreed it."
)
URGENT_MANAGER_NOT_OF_AGENCY = (
    "The manager or lead you name must be a line manager or safeguarding lead of your agency."
)
ISSUE_REQUIRED = "Describe the issue in your own words."
REASON_REQUIRED = "Say why: this is recorded on the case's chronology."
NOT_FROM_THIS_STATE = (
    "This case is now at {status}, so it cannot be {action}. "
    "Refresh the page to see its latest state."
)
MOVED_ON = (
    "Someone else changed this case while you were filling in the form: it is now at "
    "{status}. Nothing has been saved; what you typed is below. Refresh the page to see the "
    "latest state."
)
NOT_PERMITTED = "This step is for someone else to take at this stage of the case."
CATEGORY_OUTSIDE_PARTNERSHIP = "Choose a category of your partnership."
CASE_CLOSED = "This case is closed. Raise a new difference and link it to this one."
LINK_TO_SELF = "A case cannot be linked to itself."
NAMED_PROFESSIONAL_NOT_A_PARTY = (
    "A named professional must belong to one of the other agencies in the difference."
)
ENTRY_NEEDS_CONTENT = "Record the facts, your professional opinion or the outcome agreed."
CORRECTION_OTHER_CASE = "A correction must refer to an entry on the same case."
NOT_A_PARTY = "Only people involved in this case can record on it."


class DifferenceRefused(Exception):
    """A use case refused, with a message fit to show the person who asked."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
