"""The clear API keys go: 0008 kept their digests. Reversed, the column comes back empty (keys cannot be
restored from digests)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0008_api_key_digest"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="user",
            name="api_key",
        ),
    ]
