"""The embedded broker (a folder of files): a worker that looks while a message is being written must not see
half of it. kombu's own transport creates the message's file, then writes it; a worker taking the file in
between read it empty and stopped for good ("Unrecoverable error: JSONDecodeError"; bench/faults.py found it)."""

import builtins
from queue import Empty

import pytest
from django.conf import settings
from kombu import Connection


@pytest.fixture
def channel(tmp_path):
    folder = str(tmp_path / "queue")
    (tmp_path / "queue").mkdir()
    options = {"data_folder_in": folder, "data_folder_out": folder, "store_processed": False}
    with Connection("filesystem://localhost/", transport="panel.broker:Transport",
                    transport_options=options) as connection:
        yield connection.default_channel, tmp_path / "queue"


def test_a_worker_looking_while_a_message_is_written_sees_nothing_rather_than_half_of_it(channel, monkeypatch):
    channel, folder = channel
    seen, real_open = [], builtins.open

    def open_and_look(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if "w" in mode and str(file).startswith(str(folder)) and not seen:
            # The publisher has just created its file, nothing written yet: a worker polls the queue now.
            try:
                seen.append(channel._get("celery"))
            except Empty:
                seen.append("nothing")
            except ValueError as exc:  # the empty file, taken and decoded
                seen.append(f"a broken message: {exc}")
        return handle

    monkeypatch.setattr(builtins, "open", open_and_look)
    channel._put("celery", {"body": "order 1"})
    monkeypatch.setattr(builtins, "open", real_open)

    assert seen == ["nothing"]
    assert channel._get("celery") == {"body": "order 1"}  # then the whole message, once
    with pytest.raises(Empty):
        channel._get("celery")


def test_the_embedded_broker_is_the_one_that_writes_messages_whole():
    from panel.broker import Transport
    from panel.celery import app

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the suite runs on a broker server here")
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)


def test_a_queue_folder_gone_for_a_while_is_an_empty_queue_and_its_messages_come_after(channel, caplog):
    channel, folder = channel
    channel._put("celery", {"body": "order 2"})
    folder.rename(folder.with_name("queue.away"))
    folder.write_text("not a folder any more\n")
    for _ in range(3):  # a worker polling meanwhile: no "Unrecoverable error", it goes on looking
        with pytest.raises(Empty):
            channel._get("celery")
    assert "cannot read the queue folder" in caplog.text
    folder.unlink()
    folder.with_name("queue.away").rename(folder)
    assert channel._get("celery") == {"body": "order 2"}
    assert "readable again" in caplog.text


def test_a_process_starts_even_when_the_broker_folder_cannot_be_made(tmp_path):
    import subprocess
    import sys

    blocked = tmp_path / "broker"
    blocked.write_text("a file where the folder should be\n")
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "CELERY_BROKER_URL": "filesystem://localhost/",
           "CELERY_BROKER_DIR": str(blocked), "DJANGO_SETTINGS_MODULE": "panel.settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup(); import panel; print('started')"],
                            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "started" in result.stdout, result.stderr[-2000:]
