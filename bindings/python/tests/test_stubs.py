"""The stubs (``tessera/_tessera.pyi``) match the compiled module.

``mypy.stubtest`` imports ``tessera._tessera`` and compares every class,
method, property and signature (argument names, kinds and defaults) with
the stubs, so a method added, renamed or given a new argument on the Rust
side without its stub line fails here. What stubtest cannot know from a
compiled module is listed, with the reason, in ``stubtest-allowlist.txt``.
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_stubs_match_the_module():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "tessera._tessera",
            "--allowlist",
            os.path.join(HERE, "stubtest-allowlist.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
