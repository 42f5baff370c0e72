import json
import subprocess
import sys


def test_demo_quick_writes_plot_and_numbers(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "sklearn_hform.demo", "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "MAE" in proc.stdout and "80% of errors" in proc.stdout
    record = json.loads((out / "results.json").read_text())
    assert record["n"] == 51_255  # the full test split, as published
    assert 0 < record["mae"] < 0.5 and record["p80"] < record["p90"]
    assert (out / "parity_cdf.png").stat().st_size > 10_000
