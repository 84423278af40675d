"""The shared models now live in `core` (its 0001), on the same tables: Django's state lets go of them here,
the database is not touched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('panel', '0003_heartbeat_sitesettings'),
        ('core', '0001_initial'),
    ]

    state_operations = [
        migrations.RemoveField(
            model_name='auditentry',
            name='actor',
        ),
        migrations.DeleteModel(
            name='Heartbeat',
        ),
        migrations.DeleteModel(
            name='SiteSettings',
        ),
        migrations.DeleteModel(
            name='StaffNotice',
        ),
        migrations.DeleteModel(
            name='AuditEntry',
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])]
