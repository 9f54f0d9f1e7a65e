"""Security headers Django has no setting for. The Content-Security-Policy comes from
django-csp (CONTENT_SECURITY_POLICY in settings); this module adds the Permissions-Policy."""

# The shop needs none of these browser features: no page, and no script a page could be
# tricked into running, may use them. browsing-topics opts out of the Topics API (the
# successor of FLoC's interest-cohort, which current browsers no longer recognise).
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics")
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)


class PermissionsPolicyMiddleware:
    """Sets Permissions-Policy on every response, unless a view set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
