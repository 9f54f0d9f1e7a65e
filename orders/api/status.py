"""An order's status: timeline, next step, allowed actions; cheap to poll (ETag, 304)."""

from ninja import Router

router = Router(tags=["orders"])
