from .customer_session import current_customer


class CustomerMiddleware:
    """Sets request.customer: the signed-in Customer, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.customer = current_customer(request)
        return self.get_response(request)
