"""``python -m kg``: the same as the ``qikg`` command."""

from kg.cli import main

main()
