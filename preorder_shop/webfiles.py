"""The files browsers and crawlers ask the site for by name: robots.txt and the web app
manifest (its name in the customer's language, its icons through the static files storage)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

# A customer's own pages, the API, the courier webhook and admin are never for crawlers; the
# pages themselves also say noindex (templates/base.html) in case a link leads there.
ROBOTS_TXT = """\
User-agent: *
Disallow: /my/
Disallow: /api/
Disallow: /admin/
Disallow: /couriers/
Allow: /
"""

THEME_COLOUR = "#111111"  # the header bar; templates/_head.html says the same
BACKGROUND_COLOUR = "#f6f6f8"  # the page, while the app starts


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")


@require_safe
def web_manifest(request: HttpRequest) -> JsonResponse:
    def icon(name: str, size: int, purpose: str) -> dict[str, str]:
        return {
            "src": static(f"img/{name}"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }

    manifest = {
        "name": _("Phone pre-order"),
        "short_name": _("Pre-order"),
        "description": _(
            "Reserve the new phone before launch, then follow your place in line, "
            "your order and its delivery."
        ),
        "lang": get_language(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        # The icon's phone sits inside the maskable safe zone, so one image serves both.
        "icons": [
            icon("icon-192.png", 192, "any"),
            icon("icon-512.png", 512, "any"),
            icon("icon-512.png", 512, "maskable"),
        ],
    }
    return JsonResponse(
        manifest,
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )
