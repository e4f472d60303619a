"""The recursion data modules load without torch (the CLI validates configs before torch)."""

from __future__ import annotations

import subprocess
import sys


def test_recursion_settings_and_user_functions_import_without_torch():
    code = (
        "import sys\n"
        "import algolens.tasks.recursion.settings, algolens.tasks.recursion.dataset\n"
        "import algolens.tasks.recursion.user\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "from algolens.tasks import CompositionTask\n"
        "assert 'torch' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
