"""My reservations, one reservation, cancel, and its order form (draft, save, submit,
discard)."""

from ninja import Router

router = Router(tags=["reservations"])
