"""Load the shipped ICD-10 and ICD-9-CM3 catalogues (``encounters/data/*.csv``).

Idempotent: codes already in the table are left as they are (a county may have edited
them in the admin); missing ones are added.
"""

import csv
import io
from importlib import resources

from django.db import migrations


def _rows(name):
    text = resources.files("yigongti.encounters").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def load_catalogues(apps, schema_editor):
    diagnosis = apps.get_model("encounters", "DiagnosisCode")
    procedure = apps.get_model("encounters", "ProcedureCode")
    have = set(diagnosis.objects.values_list("code", flat=True))
    diagnosis.objects.bulk_create(
        [
            diagnosis(
                code=row["code"],
                name=row["name"],
                chapter=row["chapter"],
                chapter_name=row["chapter_name"],
                notifiable_disease=row["notifiable_disease"],
                notifiable_class=row["notifiable_class"],
                is_chronic=row["is_chronic"] == "1",
            )
            for row in _rows("icd10.csv")
            if row["code"] not in have
        ],
        batch_size=500,
    )
    have = set(procedure.objects.values_list("code", flat=True))
    procedure.objects.bulk_create(
        [
            procedure(code=row["code"], name=row["name"], grade=int(row["grade"]) if row["grade"] else None)
            for row in _rows("procedures.csv")
            if row["code"] not in have
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("encounters", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_catalogues, migrations.RunPython.noop),
    ]
