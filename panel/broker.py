"""The embedded broker: kombu's file-system transport, with each message written whole before it appears.

kombu creates a message's file in the queue folder and then writes it. A worker listing the folder in
between takes the empty file, cannot decode it, and stops for good ("Unrecoverable error: JSONDecodeError",
kombu issue #1551): with customers ordering while beat sends its tasks, within minutes. Here a message is
written under a name no consumer takes (`.part` after `.msg`), then renamed into place: atomic within a
folder, so a worker sees a message whole or not at all.
"""

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
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
