import sys
from pathlib import Path

# the raw client (zkraw), the server launcher (zkserver) and the corral binary rule
# (corral_binary) live in tests/differential
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))

# A corral test without a corral binary fails before its fixtures run.
from corral_binary import pytest_report_header, pytest_runtest_setup  # noqa: E402, F401
