"""API keys stored as a digest: the new columns, and every existing key converted (its SHA-256 and its last four
characters) while the clear column is still there. 0009 then drops the clear column.

Reversing cannot give the keys back: only their digests were kept. Going back drops the digests (the columns
go) and 0009's reverse brings back an empty clear column: every customer then has no key and makes a new one.
"""

import hashlib

from django.db import migrations, models


def keys_to_digests(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    alias = schema_editor.connection.alias
    users = User.objects.using(alias).filter(api_key__isnull=False).exclude(api_key="").only("pk", "api_key")
    batch = []
    for user in users.iterator(chunk_size=1000):
        user.api_key_digest = hashlib.sha256(user.api_key.encode()).hexdigest()
        user.api_key_hint = user.api_key[-4:]
        batch.append(user)
        if len(batch) == 1000:
            User.objects.using(alias).bulk_update(batch, ["api_key_digest", "api_key_hint"])
            batch = []
    if batch:
        User.objects.using(alias).bulk_update(batch, ["api_key_digest", "api_key_hint"])


def digests_cannot_become_keys(apps, schema_editor):
    """Nothing to restore: a digest does not give its key back. The digest columns are dropped next."""


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0007_user_has_custom_rates"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="api_key_digest",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="user",
            name="api_key_hint",
            field=models.CharField(blank=True, editable=False, max_length=4),
        ),
        migrations.AddField(
            model_name="user",
            name="api_key_created_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="api_allowed_networks",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name="user",
            name="api_recent_addresses",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(keys_to_digests, digests_cannot_become_keys, elidable=False),
    ]
