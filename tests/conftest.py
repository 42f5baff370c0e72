import sys
from pathlib import Path

import pytest

# The developer guide's example network (docs/code/residual_mlp.py) is
# imported by name, as a user's own module would be, so that it pickles.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "code"))

from sklearn_hform.datasets import load_oqmd_hform


@pytest.fixture(scope="session")
def oqmd_small():
    """3,000 training rows and 1,000 test rows of the bundled data."""
    X, y = load_oqmd_hform(split="train", return_X_y=True)
    Xte, yte = load_oqmd_hform(split="test", return_X_y=True)
    return X[:3000], y[:3000], Xte[:1000], yte[:1000]
