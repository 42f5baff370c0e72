"""The models shipped with the package.

``load_pretrained("paper")`` and ``load_pretrained("best")`` return fitted
pipelines (formulas in, eV/atom out) read from the ``paper/`` and ``best/``
folders next to this module, in the format of
:mod:`sklearn_hform.persistence`.
"""

from importlib import resources

__all__ = ["PRETRAINED_NAMES", "available_pretrained", "load_pretrained", "load_pretrained_metadata",
           "stability_calibrations"]

#: Names accepted by :func:`load_pretrained`.
PRETRAINED_NAMES = ("paper", "best", "expt")
_FILES = ("model.json", "model.safetensors", "SHA256SUMS")
#: The P(stable) calibration of each model, beside the model folders (not in them: a model
#: folder is exactly what :func:`~sklearn_hform.persistence.save_model` writes).
CALIBRATION_FILE = "stability_calibration.json"


def _folder(name):
    if name not in PRETRAINED_NAMES:
        raise ValueError(f"unknown pretrained model {name!r}; available: {_describe_available()}")
    folder = resources.files(__package__) / name
    if not all((folder / f).is_file() for f in _FILES):
        raise FileNotFoundError(
            f"pretrained model {name!r} is not installed with this copy of sklearn-hform "
            f"(train it with scripts/train_pretrained.py); available: {_describe_available()}"
        )
    return folder


def available_pretrained():
    """Names of the pretrained models installed with the package.

    Returns
    -------
    list of str
        A subset of ``PRETRAINED_NAMES``.
    """
    root = resources.files(__package__)
    return [n for n in PRETRAINED_NAMES if all((root / n / f).is_file() for f in _FILES)]


def _describe_available():
    installed = available_pretrained()
    return ", ".join(f"{n!r}" + ("" if n in installed else " (not installed)") for n in PRETRAINED_NAMES)


def load_pretrained(name="paper"):
    """Load a model shipped with the package: formulas in, eV/atom out.

    Parameters
    ----------
    name : {"paper", "best", "expt"}, default="paper"
        ``"paper"`` is the Table-1 network of Ti et al. (2020); ``"best"``
        the most accurate model this package ships, a
        :class:`~sklearn_hform.DeepEnsembleRegressor` whose ``predict``
        accepts ``return_std=True``. Both were trained on the OQMD train and
        validation splits by ``scripts/train_pretrained.py`` and predict
        OQMD's DFT formation enthalpy. ``"expt"`` predicts the experimental
        standard formation enthalpy at 298 K: ``best`` fine-tuned on the
        experimental data of :func:`~sklearn_hform.datasets.load_expt_hform`
        by ``scripts/train_expt.py``, its std and intervals calibrated
        against experimental errors. See :func:`load_pretrained_metadata`
        for how each was made and to what error.

    Returns
    -------
    pipeline : Pipeline
        Fitted, predicting on the CPU; its ``stability_calibration_`` is
        the :class:`~sklearn_hform.stability.StabilityCalibrator` that
        :func:`~sklearn_hform.stability.screen` computes P(stable) with
        (see :func:`stability_calibrations`). It is not saved by
        :func:`~sklearn_hform.persistence.save_model`.

    Raises
    ------
    ValueError
        If ``name`` is not one of the names above.
    FileNotFoundError
        If the model is not installed.

    Examples
    --------
    >>> from sklearn_hform import load_pretrained
    >>> model = load_pretrained("paper")  # doctest: +SKIP
    >>> model.predict(["Fe2O3", "NaCl"])  # doctest: +SKIP
    """
    from ..persistence import load_model

    with resources.as_file(_folder(name)) as path:
        model = load_model(path)
    calibration = stability_calibrations().get(name)
    if calibration is not None:
        from ..stability import StabilityCalibrator

        # What the screen's P(stable) is calibrated by for this model.
        model.stability_calibration_ = StabilityCalibrator.from_dict(calibration)
    return model


def stability_calibrations():
    """The shipped stability calibrations: for each pretrained model, its calibrator's parameters.

    Fitted by ``benchmarks/bench_discovery.py --write-calibration`` on
    rediscovery outcomes of OQMD systems (see
    :class:`~sklearn_hform.stability.StabilityCalibrator`);
    :func:`load_pretrained` attaches them as ``stability_calibration_``.

    Returns
    -------
    dict
        Model name to ``StabilityCalibrator.to_dict()`` output.
    """
    import json

    path = resources.files(__package__) / CALIBRATION_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def load_pretrained_metadata(name="paper"):
    """How a pretrained model was made: command, seed, hardware, time, test error.

    Parameters
    ----------
    name : {"paper", "best", "expt"}, default="paper"

    Returns
    -------
    dict
    """
    from ..persistence import load_model_metadata

    with resources.as_file(_folder(name)) as path:
        return load_model_metadata(path)
