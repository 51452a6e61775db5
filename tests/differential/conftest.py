import os

from zkserver import ci, corral_bin


def pytest_report_header(config):
    b = corral_bin()
    if b:
        return f"corral: {b}"
    if ci():
        return "corral: binary MISSING under CI=true -> corral parameters will fail"
    return ("corral: no CORRAL_BIN and no target/debug/corral -> corral parameters not "
            f"generated (CORRAL_BIN={os.environ.get('CORRAL_BIN')!r})")
