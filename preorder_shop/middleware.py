from django.utils.functional import SimpleLazyObject

from .customer_session import SESSION_KEY, current_customer


class CustomerMiddleware:
    """Sets request.customer_id (from the session, no query) and request.customer (the
    Customer or None, loaded on first use), so a view that needs only the id costs nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.customer_id = request.session.get(SESSION_KEY)
        request.customer = (
            None
            if request.customer_id is None
            else SimpleLazyObject(lambda: current_customer(request))
        )
        return self.get_response(request)
