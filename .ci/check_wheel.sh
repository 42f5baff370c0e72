#!/usr/bin/env bash
# Packaging check (issue 20): build the sdist and the wheel, check that they
# carry the data, the pretrained models and the licences, then install the
# wheel into a fresh virtual environment and use it from outside the source
# tree. The test suite runs on an editable install, which reads every file
# straight from the checkout, so it cannot notice a file missing from the
# package data; this script can.
#
# Needs .venv (made by `make test`, which installs `build` with the dev extra).
# Run from anywhere: bash .ci/check_wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
# Same pin as the Makefile: the CPU build of torch lies on the CI machine's
# disk, a plain `torch` would pull a multi-GB CUDA build.
TORCH_PIN=${TORCH_PIN:-torch==2.13.0}
# A PYTHONPATH pointing into the checkout would defeat the point.
unset PYTHONPATH

START=$SECONDS
step() { echo "== [$((SECONDS - START)) s] $*"; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

step "build sdist and wheel"
# build makes the sdist, then the wheel from the sdist, so the wheel also
# proves the sdist is complete. Its log is long; show it only on failure.
if ! "$PY" -m build --outdir "$TMP/dist" . >"$TMP/build.log" 2>&1; then
    cat "$TMP/build.log"
    echo "check_wheel: python -m build failed" >&2
    exit 1
fi
WHEEL=$(ls "$TMP"/dist/*.whl)
SDIST=$(ls "$TMP"/dist/*.tar.gz)

step "check the contents of $(basename "$WHEEL") and $(basename "$SDIST")"
"$PY" - "$WHEEL" "$SDIST" <<'EOF'
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

wheel, sdist = sys.argv[1:]
# What the package reads at run time (datasets, load_pretrained) and the
# licences it must ship: the code's at top level of dist-info (license-files
# in pyproject.toml), the OQMD data's (CC BY 4.0) next to the data.
data = [
    "sklearn_hform/datasets/data/train.csv.gz",
    "sklearn_hform/datasets/data/val.csv.gz",
    "sklearn_hform/datasets/data/test.csv.gz",
    "sklearn_hform/datasets/data/LICENSE.txt",
    "sklearn_hform/datasets/descr/oqmd_hform.rst",
    "sklearn_hform/datasets/data/expt_hform_half.csv.gz",
    "sklearn_hform/datasets/descr/expt_hform.rst",
    "sklearn_hform/pretrained/stability_calibration.json",
] + [
    f"sklearn_hform/pretrained/{name}/{f}"
    for name in ("paper", "best", "expt")
    for f in ("model.json", "model.safetensors", "SHA256SUMS")
]
problems = []

with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    (dist_info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    required = data + [f"{dist_info}/licenses/LICENSE", f"{dist_info}/entry_points.txt"]
    problems += [f"wheel lacks {n}" for n in required if n not in names]
    # Every module of the tree, subpackages included (packages.find must reach them all).
    modules = sorted(p.as_posix() for p in Path("sklearn_hform").rglob("*.py") if "__pycache__" not in p.parts)
    problems += [f"wheel lacks {m}" for m in modules if m not in names]
    # Only the package and its metadata: no tests/, docs/, scripts/ ... at top level.
    stray = sorted({n.split("/")[0] for n in names} - {"sklearn_hform", dist_info})
    problems += [f"wheel has unexpected top-level entry {s}" for s in stray]
    meta = Parser().parsestr(z.read(f"{dist_info}/METADATA").decode())
    if meta.get("License-Expression") != "BSD-3-Clause":
        problems.append(f"wheel METADATA License-Expression is {meta.get('License-Expression')!r}")
    if "LICENSE" not in (meta.get_all("License-File") or []):
        problems.append("wheel METADATA has no License-File: LICENSE")
    if f"{dist_info}/entry_points.txt" in names and "hform = sklearn_hform.cli:main" not in z.read(
        f"{dist_info}/entry_points.txt"
    ).decode():
        problems.append("wheel entry_points.txt lacks the hform console script")
    unpacked = sum(i.file_size for i in z.infolist())
    n_files = len(names)

with tarfile.open(sdist) as t:
    names = set(t.getnames())
    (top,) = {n.split("/")[0] for n in names}
    required = data + ["LICENSE", "pyproject.toml", "README.md"]
    problems += [f"sdist lacks {n}" for n in required if f"{top}/{n}" not in names]

if problems:
    print("check_wheel: FAILED, the distributions are incomplete:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"wheel: {n_files} files, {unpacked / 2**20:.1f} MiB unpacked; all {len(data)} data/model files and both licences present")
EOF
# Sizes, so a growing model or data file shows up in the CI log.
for f in "$WHEEL" "$SDIST"; do
    echo "size: $(du -h --apparent-size "$f" | cut -f1)  $(basename "$f")"
done

step "fresh virtual environment, install $TORCH_PIN, the wheel, pytest"
VENV=$TMP/venv
python3 -m venv "$VENV"
# --no-compile: byte-compiling all of torch, pymatgen & co. at install time
# took most of the install's CPU time here, and the extra ~10,000 .pyc files
# made the final `rm -rf` take minutes; Python compiles what it imports anyway.
pip_install() { "$VENV/bin/python" -m pip install -q --no-compile "$@"; }
pip_install --upgrade pip
# torch first and pinned, so the wheel's torch>=2.2 is already satisfied.
pip_install "$TORCH_PIN"
step "pip install the wheel (its dependencies come from the package index)"
pip_install "$WHEEL"
pip_install pytest
"$VENV/bin/python" -m pip check

# Work from an empty directory outside the checkout: there `import
# sklearn_hform` can only find the installed copy.
RUN=$TMP/run
mkdir "$RUN"
cp "$ROOT/tests/test_installed_smoke.py" "$RUN/"
cd "$RUN"
export PATH="$VENV/bin:$PATH"

step "hform predict NaCl"
[[ $(command -v hform) == "$VENV/bin/hform" ]] || { echo "check_wheel: hform is not the venv's" >&2; exit 1; }
out=$(hform predict NaCl)
echo "$out"
# A line "NaCl  -1.8933": the formula and a number.
grep -Eq '^NaCl[[:space:]]+-?[0-9]+(\.[0-9]+)?' <<<"$out" || {
    echo "check_wheel: 'hform predict NaCl' printed no NaCl row with a number" >&2
    exit 1
}

step "load_pretrained(\"best\") from the installed package"
SOURCE_TREE=$ROOT python - <<'EOF'
import os
import sys
from pathlib import Path

import numpy as np

import sklearn_hform
from sklearn_hform import load_pretrained

where = Path(sklearn_hform.__file__).resolve()
assert where.is_relative_to(Path(sys.prefix).resolve()), f"sklearn_hform imported from {where}, not the venv"
assert not where.is_relative_to(Path(os.environ["SOURCE_TREE"]).resolve()), f"imported from the source tree: {where}"
formulas = ["NaCl", "Fe2O3", "SiO2", "GaAs", "MgO"]
mean, std = load_pretrained("best").predict(formulas, return_std=True)
assert np.isfinite(mean).all() and np.isfinite(std).all(), (mean, std)
print(f"sklearn_hform {sklearn_hform.__version__} from {where.parent}")
for f, m, s in zip(formulas, mean, std):
    print(f"  {f:<6} {m:+.3f} +- {s:.3f} eV/atom")
EOF

step "smoke tests against the installed package"
python -m pytest -q -p no:cacheprovider test_installed_smoke.py

step "check_wheel: OK"
