"""The ``yigongti`` command line: Django management commands under one name.

``yigongti generate --scenario demo --seed 20251``, ``yigongti migrate``,
``yigongti runserver``, ``yigongti createdemousers`` … each with ``--help``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.config.settings")
    from django.core.management import execute_from_command_line

    args = ["yigongti", *(sys.argv[1:] if argv is None else argv)]
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
