"""gunicorn's access and error lines as JSON (with LOG_FORMAT=json, the production default).

An access line holds the path only, never the query string (a reseller calling /api/v2 with GET puts their
API key there), and the request id the panel answered in X-Request-ID."""

import json
import logging
from datetime import UTC, datetime

from gunicorn.glogging import Logger


class JsonLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict or self.cfg.syslog):
            return
        headers = dict((name.lower(), value) for name, value in (resp.headers or []))
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": resp.status_code if hasattr(resp, "status_code") else str(resp.status).split(" ")[0],
            "bytes": getattr(resp, "sent", None),
            "ms": round(request_time.total_seconds() * 1000, 1),
            "remote": environ.get("REMOTE_ADDR"),
            "request_id": headers.get("x-request-id", ""),
        }
        try:
            self.access_log.info(json.dumps(entry, ensure_ascii=False, default=str))
        except Exception:
            self.exception("Failed to write the access line")

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(_JsonErrorFormatter())
        for handler in self.access_log.handlers:
            handler.setFormatter(_MessageOnly())


class _MessageOnly(logging.Formatter):
    def format(self, record):
        return record.getMessage()


class _JsonErrorFormatter(logging.Formatter):
    def format(self, record):
        from panel.logs import redact

        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": "gunicorn.error",
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)
