"""Shapes more than one orders endpoint answers with: the place in line and the actions
allowed now (orders.selectors.customer_actions, the one answer the pages show)."""

import datetime as dt

from ninja import Field, Schema

from reservations.selectors import QueueStanding

from ..selectors import CustomerActions


class StandingOut(Schema):
    place: int = Field(description="Place in line among reservations still holding one.")
    total: int = Field(description="Reservations holding a place for the same variant.")
    total_at: dt.datetime | None = Field(
        description="When the total was counted (it is refreshed every few seconds); "
        "null when counted for this response."
    )


class ActionsOut(Schema):
    write_order: bool
    resume_draft: bool
    discard_draft: bool
    cancel: bool
    order_number: str | None = Field(description="The submitted order to view, if any.")
    note: str = Field(description="Why the order form is not available now; empty otherwise.")


def standing_out(standing: QueueStanding | None) -> dict | None:
    if standing is None:
        return None
    return {"place": standing.place, "total": standing.total, "total_at": standing.total_at}


def actions_out(actions: CustomerActions) -> dict:
    return {
        "write_order": actions.write_order,
        "resume_draft": actions.resume_draft,
        "discard_draft": actions.discard_draft,
        "cancel": actions.cancel,
        "order_number": actions.order.number if actions.order else None,
        "note": str(actions.note),
    }
