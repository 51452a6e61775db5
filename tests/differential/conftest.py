# A corral test without a corral binary fails before its fixtures run (corral_binary.py).
from corral_binary import pytest_report_header, pytest_runtest_setup  # noqa: F401
