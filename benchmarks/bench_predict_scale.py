"""Prediction at scale: the shipped ``best`` ensemble on a million formulas, peak memory and formulas/s.

Each case runs in a fresh Python process, which reports its own peak
resident memory (``ru_maxrss``):

- ``Pipeline.predict`` on ``--rows`` formulas held in memory (one array in,
  one array out; the fractions of all rows exist at once);
- :func:`sklearn_hform.prediction.predict_formulas` on the same formulas
  (featurised and predicted ``PREDICT_FORMULAS_CHUNK_SIZE`` rows at a
  time, with the std);
- ``hform predict --model best -i big.csv -o out.csv`` on a CSV of
  ``--csv-rows`` rows (streamed; the file is written first, not timed).

The formulas are the OQMD test split repeated to length. Target: a million
formulas under 2 GiB of peak memory.

    python benchmarks/bench_predict_scale.py [--rows 1000000] [--csv-rows 2000000]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

TARGET_BYTES = 2 * 1024**3

CHILD = r"""
import json, sys, time
import numpy as np
from sklearn_hform import load_pretrained
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.prediction import predict_formulas

case, n = sys.argv[1], int(sys.argv[2])
formulas = np.resize(load_oqmd_hform(split="test", return_X_y=True)[0].iloc[:, 0].to_numpy(dtype=object), n)
model = load_pretrained("best")
t0 = time.perf_counter()
if case == "predict":
    out = model.predict(formulas)
else:
    out = predict_formulas(model, formulas)["prediction"].to_numpy()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "finite": int(np.isfinite(out).sum())}))
"""

# The command line, run in a process that says its own peak memory at the end.
CLI = r"""
import resource, sys, time
from sklearn_hform.cli import main
t0 = time.perf_counter()
status = main(sys.argv[1:])
print(f'{{"seconds": {time.perf_counter() - t0}, "status": {status}}}')
"""

PEAK = "\nimport resource, sys; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, file=sys.stderr)\n"


def child_peak(command):
    """Run ``command`` (``python -c CODE args``); its stdout and its own peak RSS in bytes."""
    command = [*command[:2], command[2] + PEAK, *command[3:]]
    proc = subprocess.run(command, capture_output=True, text=True, check=True)
    return proc.stdout, int(proc.stderr.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--csv-rows", type=int, default=2_000_000)
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args()
    report = {}
    print(f"best ensemble, {os.cpu_count()} CPUs")
    print(f"  {'case':<44} {'rows':>10} {'seconds':>8} {'formulas/s':>11} {'peak RSS':>9}")

    with tempfile.TemporaryDirectory() as folder:
        csv = os.path.join(folder, "big.csv")
        import numpy as np

        from sklearn_hform.datasets import load_oqmd_hform

        formulas = np.resize(load_oqmd_hform(split="test", return_X_y=True)[0].iloc[:, 0].to_numpy(dtype=object),
                             args.csv_rows)
        with open(csv, "w", encoding="utf-8") as f:
            f.write("formula\n")
            f.writelines(f"{x}\n" for x in formulas)
        del formulas
        out = os.path.join(folder, "out.csv")
        cases = [
            ("predict_formulas (chunked)", [sys.executable, "-c", CHILD, "chunked", str(args.rows)], args.rows),
            ("hform predict -i big.csv -o out.csv (streamed)",
             [sys.executable, "-c", CLI, "predict", "--model", "best", "-i", csv, "-o", out, "--no-progress"],
             args.csv_rows),
            ("Pipeline.predict (all rows in memory)", [sys.executable, "-c", CHILD, "predict", str(args.rows)],
             args.rows),
        ]
        for name, command, rows in cases:
            stdout, peak = child_peak(command)
            seconds = json.loads(stdout.strip().splitlines()[-1])["seconds"]
            if name.startswith("hform"):
                with open(out, encoding="utf-8") as f:
                    written = sum(1 for _ in f) - 1
                assert written == rows, f"hform predict wrote {written} rows of {rows}"
            report[name] = {"rows": rows, "seconds": seconds, "formulas_per_s": rows / seconds, "peak_rss": peak}
            print(f"  {name:<44} {rows:>10,} {seconds:8.1f} {rows / seconds:11,.0f} {peak / 2**30:8.2f}G",
                  flush=True)
    for name, row in report.items():
        if row["rows"] >= 1_000_000:
            met = row["peak_rss"] < TARGET_BYTES
            print(f"target: {row['rows']:,} formulas under 2 GiB peak, {name}: {'met' if met else 'NOT met'}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
