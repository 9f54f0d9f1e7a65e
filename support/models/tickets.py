"""Support tickets: the ticket, its conversation and its append-only history.

Every write goes through support.services (status moves through support.machine); the
database refuses what the services would refuse (migration 0002: the move table, a linked
order or reservation that is not the customer's own, history that is edited, a move
without its history row).
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.identifiers import TICKET_NUMBER
from preorder_shop.models import ActedBy
from preorder_shop.phone import E164_MOBILE_PATTERN, mask_name, mask_phone


class TicketCategory(models.TextChoices):
    """What a ticket is about, as the customer picks it (issue 14, section 1)."""

    WHERE_IS_MY_PHONE = "where_is_my_phone", _("Where is my phone / delivery")
    CHANGE_DELIVERY = "change_delivery", _("Change delivery address or details")
    CANCEL = "cancel", _("Cancel")
    ORDER_FORM_HELP = "order_form_help", _("Order form help")
    PLAN_AND_JOIN_TYPE = "plan_and_join_type", _("Plan and join type")
    PROMOTION = "promotion", _("Promotion")
    SIGN_IN = "sign_in", _("Sign-in problem")
    OTHER = "other", _("Other")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# A solved ticket keeps the time it was solved, and so does a closed one (closed = solved
# more than the reopening window ago); every other status has none.
SOLVED_STATUSES = [TicketStatus.SOLVED, TicketStatus.CLOSED]
# The queue (issue 15): every ticket not solved or closed. The SLA clock runs while the
# ticket is ours to act on (open or answered) and stops while it waits on the customer.
QUEUE_STATUSES = [TicketStatus.OPEN, TicketStatus.ANSWERED, TicketStatus.WAITING_ON_CUSTOMER]
CLOCK_STATUSES = [TicketStatus.OPEN, TicketStatus.ANSWERED]
# The queue's order: the nearer of the deadlines still pending (the first response's until
# it is given, and the resolution's); NULL while the clock is stopped with time left, which
# PostgreSQL sorts last. The same expression is indexed (ticket_queue_idx), so the queue
# is an index scan, not a sort.
PENDING_DUE = Least(
    Case(When(first_responded_at__isnull=True, then=F("first_response_due_at"))),
    F("resolution_due_at"),
)


class Ticket(models.Model):
    """One customer question. A signed-in customer's ticket is `verified` and may name one
    of their reservations (and that reservation's order); a ticket from the signed-out
    contact form ("my code never arrives") has only the phone number and name typed into
    it, is unverified and is linked to nothing until its customer signs in."""

    number = models.CharField(_("ticket number"), max_length=10, editable=False)
    customer = models.ForeignKey(
        "preorder_shop.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    verified = models.BooleanField(
        _("verified"),
        default=False,
        help_text=_("Filed by a signed-in customer (not from the signed-out contact form)."),
    )
    contact_phone = models.CharField(_("contact mobile number"), max_length=16, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    category = models.CharField(_("category"), max_length=32, choices=TicketCategory.choices)
    # No reverse accessors: the apps below never reach up to their tickets.
    reservation = models.ForeignKey(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reservation"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    reply_email = models.EmailField(_("e-mail for replies"), blank=True)
    # What messages about the ticket are written in: the customer's, or the contact form's.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ko"
    )
    status = models.CharField(
        _("status"), max_length=32, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    # The form's key: the same submission sent again (double click, retry) is the same ticket.
    idempotency_key = models.UUIDField(_("idempotency key"), editable=False)
    # The SLA (issue 15): stamped by support.services.deadlines on every change that moves
    # them. A due time is NULL while the clock is stopped with time left (waiting on the
    # customer); once given or solved it stays what it was then, to measure against.
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    sla_breach_reason = models.TextField(
        _("reason for the SLA breach"),
        blank=True,
        help_text=_("Recorded by an agent (support.services.explain_breach)."),
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            # A customer's tickets, newest first; also the 24-hour duplicate lookup.
            models.Index(
                fields=["customer", "category", "-created_at"], name="ticket_customer_idx"
            ),
            # The closing task's scan: solved tickets by the time they were solved.
            models.Index(
                fields=["solved_at"],
                condition=Q(status=TicketStatus.SOLVED),
                name="ticket_solved_idx",
            ),
            # The queue page's ORDER BY, and "take next"'s (unassigned, clock running).
            models.Index(
                PENDING_DUE,
                F("id"),
                condition=Q(status__in=QUEUE_STATUSES),
                name="ticket_queue_idx",
            ),
            models.Index(
                PENDING_DUE,
                F("id"),
                condition=Q(status__in=CLOCK_STATUSES, assignee__isnull=True),
                name="ticket_unassigned_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="ticket_number_unique"),
            models.CheckConstraint(
                condition=Q(number__regex=TICKET_NUMBER.shape.pattern),
                name="ticket_number_format",
            ),
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=Q(customer__isnull=False),
                name="ticket_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["contact_phone", "idempotency_key"],
                condition=Q(customer__isnull=True),
                name="ticket_contact_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TicketStatus.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=TicketCategory.values), name="ticket_category_valid"
            ),
            # Verified means a signed-in customer's: the only tickets that name one.
            models.CheckConstraint(
                condition=Q(verified=True, customer__isnull=False)
                | Q(verified=False, customer__isnull=True),
                name="ticket_verified_iff_customer",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | (~Q(contact_phone="") & ~Q(contact_name="")),
                name="ticket_contact_details",
            ),
            models.CheckConstraint(
                condition=Q(contact_phone="") | Q(contact_phone__regex=E164_MOBILE_PATTERN),
                name="ticket_contact_phone_e164",
            ),
            # An order is linked with its reservation (the trigger checks they match and
            # are the customer's own).
            models.CheckConstraint(
                condition=Q(order__isnull=True) | Q(reservation__isnull=False),
                name="ticket_order_needs_reservation",
            ),
            models.CheckConstraint(
                condition=(Q(status__in=SOLVED_STATUSES) & Q(solved_at__isnull=False))
                | (~Q(status__in=SOLVED_STATUSES) & Q(solved_at__isnull=True)),
                name="ticket_solved_at_iff_solved",
            ),
            models.CheckConstraint(
                condition=Q(status_changed_at__gte=F("created_at")),
                name="ticket_changed_after_created",
            ),
            models.CheckConstraint(
                condition=Q(first_responded_at__isnull=True)
                | Q(first_responded_at__gte=F("created_at")),
                name="ticket_responded_after_created",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def recipient_phone(self) -> str:
        """Where SMS about this ticket go: the customer's verified number, else the number
        typed into the contact form."""
        return self.customer.phone if self.customer_id else self.contact_phone

    @property
    def masked_contact(self) -> str:
        if self.customer_id:
            return str(self.customer)
        return f"{mask_name(self.contact_name)} {mask_phone(self.contact_phone)}"


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


class TicketMessage(models.Model):
    """One message of a ticket's conversation. Internal notes (issue 15) are staff's and
    never shown to the customer. The text of a message never changes (migration 0002); a
    merge of duplicates (issue 15) may move messages to another ticket."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="messages", verbose_name=_("ticket")
    )
    author_kind = models.CharField(_("from"), max_length=16, choices=AuthorKind.choices)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    body = models.TextField(_("message"))
    internal = models.BooleanField(
        _("internal note"), default=False, help_text=_("Staff only; never shown to the customer.")
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    # The submission that wrote this message: sent again, it adds nothing.
    idempotency_key = models.UUIDField(_("idempotency key"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "idempotency_key"], name="ticket_message_idempotency_unique"
            ),
            models.CheckConstraint(
                condition=Q(author_kind__in=AuthorKind.values), name="ticket_message_author_valid"
            ),
            models.CheckConstraint(
                condition=Q(author_kind=AuthorKind.STAFF, staff_user__isnull=False)
                | (~Q(author_kind=AuthorKind.STAFF) & Q(staff_user__isnull=True)),
                name="ticket_message_staff_named",
            ),
            models.CheckConstraint(
                condition=Q(internal=False) | Q(author_kind=AuthorKind.STAFF),
                name="ticket_message_internal_is_staff",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="ticket_message_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.get_author_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class TicketChange(models.TextChoices):
    STATUS = "status", _("Status")
    LINKED = "linked", _("Linked")
    ASSIGNED = "assigned", _("Assigned")
    RELEASED = "released", _("Released")
    MERGED = "merged", _("Merged")
    SLA_EXPLAINED = "sla_explained", _("SLA breach explained")


# Changes that name the agent a ticket was given to or taken from.
ASSIGNMENT_CHANGES = [TicketChange.ASSIGNED, TicketChange.RELEASED]
# Changes that say what happened in their note (which ticket merged; the breach's reason).
NOTED_CHANGES = [TicketChange.MERGED, TicketChange.SLA_EXPLAINED]


class TicketHistory(ActedBy):
    """One row per change of a ticket: a status move, or a named change (an order linked, an
    agent assigned or released, a duplicate merged, an SLA breach explained). Append-only
    (the database refuses updates and deletes)."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="history", verbose_name=_("ticket")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    change = models.CharField(_("change"), max_length=16, choices=TicketChange.choices)
    from_status = models.CharField(
        _("from"), max_length=32, choices=TicketStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=32, choices=TicketStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
        help_text=_("Who the ticket was assigned to, or released from."),
    )

    class Meta:
        verbose_name = _("ticket change")
        verbose_name_plural = _("ticket history")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(change__in=TicketChange.values), name="ticket_history_change_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(change=TicketChange.STATUS)
                    & ~Q(from_status="")
                    & ~Q(to_status="")
                    & ~Q(from_status=F("to_status"))
                )
                | (~Q(change=TicketChange.STATUS) & Q(from_status="", to_status="")),
                name="ticket_history_status_move",
            ),
            models.CheckConstraint(
                condition=Q(change__in=ASSIGNMENT_CHANGES, assignee__isnull=False)
                | (~Q(change__in=ASSIGNMENT_CHANGES) & Q(assignee__isnull=True)),
                name="ticket_history_assignee_named",
            ),
            models.CheckConstraint(
                condition=~Q(change__in=NOTED_CHANGES) | Q(note__regex=r"\S"),
                name="ticket_history_change_noted",
            ),
            *ActedBy.constraints("ticket_history"),
        ]

    def __str__(self) -> str:
        if self.change == TicketChange.STATUS:
            return f"{self.get_from_status_display()} → {self.get_to_status_display()}"
        return self.get_change_display()
