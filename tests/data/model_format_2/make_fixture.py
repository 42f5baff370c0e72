"""Write this fixture's model folders (format 2) and their predictions; run once, at commit d1382f7.

The folders were saved by the code of that commit (version string 0.1.0, the
0.2 development line), before the package was split into subpackages;
``tests/test_compat.py`` loads them with the current code and expects the
same fitted state and the same predictions. Running this script again with
later code would overwrite what it is there to check: it stays as the record
of how the files were made.
"""

import json
import pickle
import sys
from pathlib import Path

import torch
from sklearn.pipeline import make_pipeline

import sklearn_hform
from sklearn_hform import (
    CompositionFractionTransformer,
    CompositionTransformerRegressor,
    DeepEnsembleRegressor,
    FormationEnthalpyRegressor,
)
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.persistence import save_model
from sklearn_hform.records import cpu_name

HERE = Path(__file__).resolve().parent


def main():
    X, y = load_oqmd_hform(split="train", return_X_y=True)
    X, y = X[:300], y[:300]
    formulas = list(load_oqmd_hform(split="test", return_X_y=True)[0]["formula"][:50])
    ensemble = make_pipeline(
        CompositionFractionTransformer(),
        DeepEnsembleRegressor(
            FormationEnthalpyRegressor(hidden_layer_sizes=(16, 8), dropout=0.1, max_epochs=2, batch_size=64, device="cpu"),
            n_estimators=2, random_state=0,
        ),
    ).fit(X, y)
    attention = make_pipeline(
        CompositionFractionTransformer(),
        CompositionTransformerRegressor(d_model=16, n_heads=2, n_layers=1, dim_feedforward=32, max_epochs=2,
                                        batch_size=64, random_state=0, device="cpu"),
    ).fit(X, y)
    save_model(ensemble, HERE / "ensemble", metadata={"fixture": "model_format_2"})
    save_model(attention, HERE / "attention", metadata={"fixture": "model_format_2"})
    # Pickles name the modules their classes were defined in (sklearn_hform.regressor,
    # sklearn_hform.net, sklearn_hform.mlp, ...): they check that those paths still resolve.
    with open(HERE / "pickled.pkl", "wb") as f:
        pickle.dump({"ensemble": ensemble, "attention": attention}, f)
    mean, std = ensemble.predict(formulas, return_std=True)
    predictions = {
        "sklearn_hform_version": sklearn_hform.__version__,
        # Bit-for-bit agreement is expected on the same processor and thread
        # count only; float32 kernels sum in another order elsewhere.
        "processor": cpu_name(),
        "torch_threads": torch.get_num_threads(),
        "formulas": formulas,
        # float32 values written as Python floats: repr round-trips them exactly.
        "ensemble": [float(v) for v in mean],
        "ensemble_std": [float(v) for v in std],
        "attention": [float(v) for v in attention.predict(formulas)],
    }
    (HERE / "predictions.json").write_text(json.dumps(predictions, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
