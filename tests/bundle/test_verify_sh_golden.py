"""The shipped VERIFY.sh is byte-for-byte the script the auditor was given the sha256 of.

The generator is assembled from several modules (one per section of the script); moving code
between them must not change one byte of the output. The golden copy is the script as it was
before the generator was split (issue 14). A deliberate change to the script updates the
golden copy in the same commit:

    .venv/bin/python -c "from workbench.bundle.verify_sh import VERIFY_SH; \
open('tests/data/verify_sh/VERIFY.sh.golden', 'w', newline='').write(VERIFY_SH)"
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

from workbench.bundle.verify_sh import VERIFY_SH, VERIFY_SH_SHA256

GOLDEN = Path(__file__).parents[1] / "data" / "verify_sh" / "VERIFY.sh.golden"


def test_verify_sh_is_byte_identical_to_the_golden_copy() -> None:
    golden = GOLDEN.read_bytes()
    produced = VERIFY_SH.encode()
    if produced != golden:
        diff = difflib.unified_diff(
            golden.decode().splitlines(),
            VERIFY_SH.splitlines(),
            "golden",
            "produced",
            lineterm="",
            n=1,
        )
        raise AssertionError("VERIFY.sh changed:\n" + "\n".join(list(diff)[:60]))
    assert hashlib.sha256(golden).hexdigest() == VERIFY_SH_SHA256
