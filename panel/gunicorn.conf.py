"""gunicorn settings shared by `make run`, the Dockerfile and docker-compose.yml.

The access log names the path only, never the query string: a reseller calling /api/v2 with GET puts
their API key there, and keys must not reach logs.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))  # overlap database waits; 2 cores measured
timeout = 60
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'

# One JSON object a line (panel.gunicorn_logging) unless LOG_FORMAT=plain; plain by default with DEBUG on.
_debug = os.environ.get("DEBUG", "1").strip().lower() in ("1", "true", "yes", "on")
if os.environ.get("LOG_FORMAT", "plain" if _debug else "json").strip().lower() == "json":
    logger_class = "panel.gunicorn_logging.JsonLogger"
