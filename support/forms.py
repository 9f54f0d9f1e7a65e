"""The support pages' forms: parsers only. What a ticket may say (an empty or overlong
message, control characters, the category, whose reservation) is judged by
support.services; the views put each refusal next to its field (REFUSAL_FIELDS)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from preorder_shop.forms import RequestCodeForm

from . import exceptions
from .models import TicketCategory
from .selectors import Subject
from .services import MAX_BODY
from .services.cleaning import clean_body

STALE = _("This form is out of date. Check your answers and send it again.")
NOT_LISTED = _("Choose one of your reservations or orders from the list.")

# Which field each refusal of support.services belongs beside (None: the whole form).
REFUSAL_FIELDS: dict[type[exceptions.DomainError], str | None] = {
    exceptions.UnknownCategory: "category",
    exceptions.NotYourReservation: "subject",
    exceptions.NotYourOrder: "subject",
    exceptions.OrderNotOfReservation: "subject",
    exceptions.EmptyMessage: "body",
    exceptions.MessageTooLong: "body",
    exceptions.ControlCharacter: "body",
    exceptions.InvalidEmail: "email",
    exceptions.InvalidContactPhone: "phone",
    exceptions.ContactNameRequired: "name",
}


def refusal_field(error: exceptions.DomainError, form: forms.Form) -> str | None:
    field = REFUSAL_FIELDS.get(type(error))
    return field if field in form.fields else None


class MessageField(forms.CharField):
    """The message, judged by the service's own rule (support.services.cleaning.clean_body)
    here already, so a refused form names everything to fix at once, in the service's words.
    A NUL too is the service's "control character" (not Django's own wording)."""

    def __init__(self) -> None:
        super().__init__(
            label=_("Your message"),
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 6, "maxlength": MAX_BODY}),
        )
        self.validators = []

    def clean(self, value):
        try:
            return clean_body(super().clean(value))
        except exceptions.DomainError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc


def _key_field() -> forms.UUIDField:
    # Minted when the form is shown: the same form sent twice (a double tap, a retry) is
    # one ticket or one reply.
    return forms.UUIDField(
        widget=forms.HiddenInput, error_messages={"required": STALE, "invalid": STALE}
    )


class TicketForm(forms.Form):
    """A signed-in customer's ticket: what it is about, picked from their own list."""

    category = forms.ChoiceField(
        label=_("What is your question about?"),
        choices=TicketCategory.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": exceptions.UnknownCategory.default_message,
            "invalid_choice": exceptions.UnknownCategory.default_message,
        },
    )
    subject = forms.ChoiceField(
        label=_("Which reservation or order?"),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": NOT_LISTED},
    )
    email = forms.EmailField(
        label=_("E-mail for replies (optional)"),
        required=False,
        max_length=254,
        help_text=_("We also tell you by SMS. Either way, you read the answer here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": exceptions.InvalidEmail.default_message},
    )
    body = MessageField()
    idempotency_key = _key_field()

    def __init__(self, *args, subjects: list[Subject], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subjects = {s.value: s for s in subjects}
        self.fields["subject"].choices = [
            ("", _("Nothing in particular")),
            *((s.value, s.label) for s in subjects),
        ]

    def chosen_subject(self) -> Subject | None:
        return self.subjects.get(self.cleaned_data.get("subject") or "")


class ReplyForm(forms.Form):
    body = MessageField()
    idempotency_key = _key_field()


class ContactForm(RequestCodeForm):
    """The signed-out contact form ("my code never arrives"): the sign-in form's number and
    name (parsed the same way, so the limits key on the number as sign-in does), and the
    message."""

    body = MessageField()
    idempotency_key = _key_field()
