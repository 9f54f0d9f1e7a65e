"""The courier webhook: a thin door into fulfillment.services.couriers (checks, then one
service)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import CourierEventSource
from .services import courier_input, couriers, webhook_auth

# Every refusal has its status: the courier's system can tell "fix it" from "retry it".
STATUS = {
    webhook_auth.BadSignature: 401,
    webhook_auth.StaleRequest: 401,
    webhook_auth.ReplayedRequest: 409,
    courier_input.InvalidInput: 400,
    courier_input.InvalidOrderNumber: 400,
    courier_input.ReservationNumberGiven: 400,
    couriers.UnknownOrder: 404,
    couriers.OrderCancelled: 409,
    couriers.EventNotAllowed: 409,
    couriers.EmbargoRefused: 409,
    couriers.EventConflict: 409,
}


def _refusal(error: courier_input.CourierError) -> JsonResponse:
    body = {"error": error.code, "message": str(error.message)}
    if isinstance(error, courier_input.InvalidInput):
        body["fields"] = error.errors
    return JsonResponse(body, status=STATUS.get(type(error), 400))


@csrf_exempt  # couriers authenticate with an HMAC signature, not a session cookie
def courier_webhook(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse(
            {"error": "method_not_allowed", "message": "Use POST."},
            status=405,
            headers={"Allow": "POST"},
        )
    try:
        data = webhook_auth.accept_webhook(
            timestamp=request.headers.get("X-Courier-Timestamp"),
            nonce=request.headers.get("X-Courier-Nonce"),
            signature=request.headers.get("X-Courier-Signature"),
            body=request.body,
        )
        result = couriers.record_courier_event(data=data, source=CourierEventSource.WEBHOOK)
    except courier_input.CourierError as error:
        return _refusal(error)
    return JsonResponse(
        {
            "status": result.outcome.value,
            "order_number": result.order.number,
            "order_status": result.order.status,
        }
    )
