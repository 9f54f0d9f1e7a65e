"""The project's settings plus the `bench` app, whose floor view sits beside the shop's URLs.

Both benchmark scenarios are served with these settings, so they differ only in the view.
"""

from preorder_shop.settings import *  # noqa: F403
from preorder_shop.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
