import os
import sys
from pathlib import Path

# the raw client (zkraw) and the server launcher (zkserver) live in tests/differential
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))

from zkserver import ci, corral_bin  # noqa: E402


def pytest_report_header(config):
    b = corral_bin()
    if b:
        return f"crash: corral binary {b}"
    if ci():
        return "crash: corral binary MISSING under CI=true -> corral parameter will fail"
    return ("crash: no CORRAL_BIN and no target/debug/corral -> corral parameter not "
            f"generated (CORRAL_BIN={os.environ.get('CORRAL_BIN')!r})")
