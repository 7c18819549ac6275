"""What a process pays to load the app: every API worker, the close and the exports import it."""

from __future__ import annotations

import subprocess
import sys


def test_loading_the_app_leaves_jiebas_part_of_speech_tables_unloaded() -> None:
    """jieba.posseg's tables cost about 130 MiB and 3 s; only comment keywords (feedback) need them,
    so they load on the first comment, not in every process that imports the app."""
    script = (
        "import sys\n"
        "from lenddesk.app import create_app\n"
        "create_app(database_url='sqlite://')\n"
        "print('jieba.posseg' in sys.modules)\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
