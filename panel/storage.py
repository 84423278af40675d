"""Static files in production: whitenoise's compressed, hashed copies made by `collectstatic`.

Forgiving: a file missing from the collected set (collectstatic not run yet, or not after an upgrade) is linked
by its plain name, and whitenoise serves it from the app folders (WHITENOISE_USE_FINDERS), instead of every
page failing with a 500. `make run` and the image run collectstatic first, so this is the exception."""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

log = logging.getLogger(__name__)


class StaticFiles(CompressedManifestStaticFilesStorage):
    manifest_strict = False
    _warned = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            if not StaticFiles._warned:  # once a process: a missing collectstatic misses every file
                StaticFiles._warned = True
                log.warning("static files are not collected (%s first): run `manage.py collectstatic`", name)
            return name
