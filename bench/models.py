from django.db import models


class FloorReservation(models.Model):
    """The columns of reservations_reservation with none of its constraints, indexes or
    trigger: only the primary key. Created by `migrate --run-syncdb` (no migrations)."""

    campaign_id = models.BigIntegerField()
    variant_id = models.BigIntegerField()
    customer_id = models.BigIntegerField()
    fulfilment = models.CharField(max_length=16)
    number = models.CharField(max_length=8)
    position = models.BigIntegerField()
    slot = models.SmallIntegerField()
    status = models.CharField(max_length=16)
    idempotency_key = models.UUIDField()
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True)
    cancelled_by = models.CharField(max_length=16, blank=True)
    cancelled_by_user_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return self.number
