"""gunicorn settings shared by `make run`, the container and the benchmark."""

import multiprocessing
import os

from gunicorn import glogging

from preorder_shop import log_masking

workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
backlog = 2048
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"


class MaskingLogger(glogging.Logger):
    """gunicorn's error and access logs, with phone numbers and e-mail addresses masked
    (a query string or an error may carry one), as settings.LOGGING does for the app."""

    def setup(self, cfg):
        super().setup(cfg)
        log_masking.install(self.error_log)
        log_masking.install(self.access_log)


logger_class = MaskingLogger
