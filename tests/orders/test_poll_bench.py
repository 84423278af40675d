"""bench/poll_cycle.py still runs, and what it prints keeps to the issue's first target: ceil(polled/100) calls.

Run as a separate process on its own SQLite file (the bench makes its own test database), on few orders.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_the_poll_bench_runs_and_makes_one_status_call_per_hundred_orders(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    result = subprocess.run([sys.executable, "bench/poll_cycle.py", "250"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    calls = re.findall(r"status calls (\d+) \(ceil\(polled/100\) = (\d+)\)", out)
    polled = re.findall(r"(\d+) polled, (\d+) changed, (\d+) refunded", out)
    # worst case: all 250 change; a typical minute: the 225 still running are asked, some end Partial
    # (refunded); an idle minute: nothing moved
    assert [int(p) for p, _, _ in polled] == [250, 225, 197]
    assert int(polled[1][2]) > 0 and polled[2][1:] == ("0", "0")
    assert calls == [("3", "3"), ("3", "3"), ("2", "2")]
    assert out.count("its database work alone (answers in memory)") == 3
