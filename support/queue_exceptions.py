"""The SLA and queue's refusals (support.services.deadlines, support.services.assignment):
each a message fit to show as it is and a stable `code`."""

from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError


class NotBreached(DomainError):
    code = "sla_not_breached"
    default_message = _("This ticket has not missed a deadline, so there is no breach to explain.")


class ReasonRequired(DomainError):
    code = "reason_required"
    default_message = _("Write a reason.")


class NotInQueue(DomainError):
    code = "ticket_not_in_queue"
    default_message = _("A solved or closed ticket is not assigned to anyone.")


class NotAssigned(DomainError):
    code = "ticket_not_assigned"
    default_message = _("This ticket is not assigned to anyone.")


class NotAnAgent(DomainError):
    code = "not_an_agent"
    default_message = _(
        "Tickets can only be assigned to an active staff member who works tickets."
    )


class SamePolicy(DomainError):
    code = "sla_policy_not_different"
    default_message = _("A category's policy must differ from the default; otherwise remove it.")


class TargetsInvalid(DomainError):
    code = "sla_targets_invalid"
    default_message = _(
        "Targets are whole staffed minutes above zero, and resolution is not before the "
        "first response."
    )


class PeriodInvalid(DomainError):
    code = "round_the_clock_period_invalid"
    default_message = _(
        "A round-the-clock period runs from its first to its last day, two weeks at most."
    )
