from django.db import migrations, models
from django.db.models import Q


def by_name(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Existing departments get what their name says, as organizations.rules.patients_by_name
    (its words copied here: a migration must not change when the rule does)."""
    department = apps.get_model("organizations", "Department")
    department.objects.filter(Q(name__contains="儿科") | Q(name__contains="儿童")).update(
        patients="children"
    )
    department.objects.filter(
        Q(name__contains="妇产科") | Q(name__contains="妇科") | Q(name__contains="产科"),
        patients="all",
    ).update(patients="women")


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="department",
            name="patients",
            field=models.CharField(
                choices=[("all", "不限"), ("children", "儿童"), ("women", "女性")],
                default="all",
                max_length=10,
                verbose_name="接诊对象",
            ),
        ),
        migrations.RunPython(by_name, migrations.RunPython.noop),
    ]
