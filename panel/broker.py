"""The embedded broker: kombu's file-system transport, with each message written whole before it appears.

kombu creates a message's file in the queue folder and then writes it. A worker listing the folder in
between takes the empty file, cannot decode it, and stops for good ("Unrecoverable error: JSONDecodeError",
kombu issue #1551): with customers ordering while beat sends its tasks, within minutes. Here a message is
written under a name no consumer takes (`.part` after `.msg`), then renamed into place: atomic within a
folder, so a worker sees a message whole or not at all.

And a queue folder that cannot be listed for a while (gone, replaced, a disk or a mount in trouble) is an
empty queue to the worker, with a warning, rather than kombu's "Unrecoverable error: NotADirectoryError" that
stops the worker for good: it goes on looking, and takes the messages once the folder is back. What could not
be sent meanwhile is sent again by beat's sweep (orders.tasks).
"""

import contextlib
import logging
import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

log = logging.getLogger(__name__)
WARN_EVERY_SECONDS = 60.0


class Channel(filesystem.Channel):
    _unreadable_since: float | None = None
    _warned_at: float = 0.0

    def _get(self, queue):  # type: ignore[override]  # filesystem.Channel's own signature, narrower than the base's
        try:
            message = super()._get(queue)
        except Empty:
            self._readable()
            raise
        except OSError as exc:  # the folder's listing (reading a message is kombu's ChannelError)
            now = monotonic()
            if self._unreadable_since is None:
                self._unreadable_since = now
            if now - self._warned_at >= WARN_EVERY_SECONDS:
                self._warned_at = now
                log.warning("embedded broker: cannot read the queue folder %s (%s); waiting for it",
                            self.data_folder_in, exc.__class__.__name__)
            raise Empty() from exc
        self._readable()
        return message

    def _readable(self) -> None:
        if self._unreadable_since is not None:
            log.warning("embedded broker: the queue folder is readable again after %.0f s",
                        monotonic() - self._unreadable_since)
            self._unreadable_since = None

    def _put(self, queue, payload, **kwargs):  # type: ignore[override]  # as filesystem.Channel's
        # kombu's own name: consumers take messages in the order of this millisecond stamp.
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
