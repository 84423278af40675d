"""bench/backoffice.py still runs and reports every page, in its own process on its own SQLite file."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_the_back_office_bench_runs_and_times_every_page(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'panel.sqlite3'}"}
    result = subprocess.run([sys.executable, "bench/backoffice.py", "300", "30"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    timed = re.findall(r"^(.+?)\s+\d+\.\d{3} s\s+(\d+) queries", result.stdout, re.MULTILINE)
    names = [name.strip() for name, _ in timed]
    assert names[:3] == ["dashboard", "orders list", "orders, one status"] and "a customer's page" in names
    assert sum(name.startswith("reports page") for name in names) == 5 and names[-1] == "orders CSV export"
    assert all(0 < int(queries) <= 20 for _, queries in timed)
    assert "(300 rows," in result.stdout
