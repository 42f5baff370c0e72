"""Saving and loading fitted pipelines without pickle.

A saved pipeline is a directory with two files:

``model.json``
    Format version, package version, the transformer's parameters and
    fitted element lists, the regressor's class and parameters, per-member
    fitted attributes, the SHA-256 of ``model.pt`` and free-form metadata.
``model.pt``
    ``torch.save`` of one flat ``{name: tensor}`` dict: the ``state_dict``
    of each member network, keys prefixed by the member's index
    (``"0.hidden.0.weight"``).

Loading reads the JSON with :mod:`json`, builds only classes from a fixed
list and reads the tensors with ``torch.load(weights_only=True)``, so a
model file cannot run code.
"""

import copy
import datetime
import hashlib
import inspect
import io
import json
import numbers
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..ensemble import DeepEnsembleRegressor
from ..regressor import FormationEnthalpyRegressor
from ..transformer import CompositionFractionTransformer

FORMAT = "sklearn-hform-pipeline"
FORMAT_VERSION = 1
JSON_NAME = "model.json"
WEIGHTS_NAME = "model.pt"
#: Names accepted by :func:`load_pretrained`.
PRETRAINED_NAMES = ("paper", "best")

# Parameters that only matter while training and cannot be written as JSON.
_TRAINING_ONLY = {"callbacks": None}


def _to_json(value, where):
    """``value`` with tuples as lists and numpy scalars as Python numbers."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_to_json(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _to_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"{where} = {value!r} cannot be saved as JSON")


def _regressor_params(estimator, where):
    params = estimator.get_params(deep=False)
    params.update({k: v for k, v in _TRAINING_ONLY.items() if k in params})
    if not isinstance(params.get("random_state"), (numbers.Integral, type(None))):
        # A RandomState instance has no JSON form; its role ended with fit.
        params["random_state"] = None
    return {k: _to_json(v, f"{where}.{k}") for k, v in params.items()}


def _from_json_params(cls, params, where):
    """Check ``params`` against ``cls``'s signature; restore tuple defaults."""
    signature = inspect.signature(cls.__init__).parameters
    unknown = sorted(set(params) - set(signature))
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {unknown} for {cls.__name__}")
    restored = {}
    for name, value in params.items():
        if isinstance(signature[name].default, tuple) and isinstance(value, list):
            value = tuple(value)
        restored[name] = value
    return restored


def _check_pipeline(pipeline):
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise TypeError(
            "expected a Pipeline of two steps, a CompositionFractionTransformer and a "
            "FormationEnthalpyRegressor or DeepEnsembleRegressor of them"
        )
    (_, transformer), (_, regressor) = pipeline.steps
    if not isinstance(transformer, CompositionFractionTransformer):
        raise TypeError(f"first step must be a CompositionFractionTransformer, got {type(transformer).__name__}")
    if isinstance(regressor, FormationEnthalpyRegressor):
        members = [regressor]
    elif isinstance(regressor, DeepEnsembleRegressor):
        check_is_fitted(regressor)
        members = regressor.estimators_
        if not isinstance(regressor._base_estimator(), FormationEnthalpyRegressor):
            raise TypeError("a saved DeepEnsembleRegressor must have FormationEnthalpyRegressor members")
    else:
        raise TypeError(
            "last step must be a FormationEnthalpyRegressor or DeepEnsembleRegressor, "
            f"got {type(regressor).__name__}"
        )
    check_is_fitted(transformer)
    for member in members:
        if not isinstance(member, FormationEnthalpyRegressor):
            raise TypeError(f"ensemble member of type {type(member).__name__} cannot be saved")
        check_is_fitted(member)
        if member.n_features_in_ != len(transformer.elements_):
            raise ValueError(
                f"regressor expects {member.n_features_in_} features but the transformer "
                f"makes {len(transformer.elements_)}"
            )
    return transformer, regressor, members


def _fitted_extras(estimator):
    names = getattr(estimator, "feature_names_in_", None)
    return {} if names is None else {"feature_names_in_": [str(n) for n in names]}


def save_pipeline(pipeline, directory, metadata=None):
    """Write a fitted pipeline to ``directory`` as ``model.json`` and ``model.pt``.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted, with two steps: a
        :class:`~sklearn_hform.CompositionFractionTransformer` and a
        :class:`~sklearn_hform.FormationEnthalpyRegressor` or a
        :class:`~sklearn_hform.DeepEnsembleRegressor` of them.
    directory : str or path-like
        Created if needed; existing ``model.json`` and ``model.pt`` in it
        are replaced.
    metadata : dict, default=None
        Anything JSON can hold (training command, seed, hardware, test
        error, ...); stored as is and returned by :func:`load_metadata`.

    Returns
    -------
    directory : pathlib.Path

    Notes
    -----
    Training-only parameters without a JSON form are not saved: the
    regressors' ``callbacks`` are stored as ``None`` and a ``random_state``
    given as a ``RandomState`` instance as ``None``.
    """
    from .. import __version__

    transformer, regressor, members = _check_pipeline(pipeline)
    (t_name, _), (r_name, _) = pipeline.steps
    metadata = _to_json(copy.deepcopy(metadata or {}), "metadata")
    if not isinstance(metadata, dict):
        raise TypeError("metadata must be a dict")

    tensors = {}
    member_records = []
    for i, member in enumerate(members):
        for key, tensor in member.net_.module_.state_dict().items():
            tensor = tensor.detach().to("cpu").clone()
            if member.mixed_precision and key.startswith("hidden.") and tensor.is_floating_point():
                # Autocast casts these to bfloat16 before every use, so
                # storing them that way halves the file and changes no output.
                tensor = tensor.to(torch.bfloat16)
            tensors[f"{i}.{key}"] = tensor
        member_records.append(
            {
                "params": _regressor_params(member, f"member {i}"),
                "n_features_in_": int(member.n_features_in_),
                "n_iter_": int(member.n_iter_),
                "device_": str(member.device_),
                **_fitted_extras(member),
            }
        )
    if isinstance(regressor, DeepEnsembleRegressor):
        params = regressor.get_params(deep=False)
        if regressor.estimator is not None:
            params["estimator"] = _regressor_params(regressor.estimator, "estimator")
        if not isinstance(params["random_state"], (numbers.Integral, type(None))):
            params["random_state"] = None
        regressor_record = {
            "class": "DeepEnsembleRegressor",
            "params": _to_json(params, "ensemble"),
            "n_features_in_": int(regressor.n_features_in_),
            **_fitted_extras(regressor),
        }
    else:
        regressor_record = {"class": "FormationEnthalpyRegressor"}

    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    weights = buffer.getvalue()
    record = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_hform_version": __version__,
        "torch_version": torch.__version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "steps": [t_name, r_name],
        "transformer": {
            "params": _to_json(transformer.get_params(deep=False), "transformer"),
            "elements_": [str(s) for s in transformer.elements_],
            "elements_seen_": [str(s) for s in transformer.elements_seen_],
            **_fitted_extras(transformer),
        },
        "regressor": regressor_record,
        "members": member_records,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "metadata": metadata,
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / WEIGHTS_NAME).write_bytes(weights)
    (directory / JSON_NAME).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return directory


def _read_record(text, source):
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{source}: not a sklearn-hform model file")
    version = record.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{source}: model format version {version!r} is newer than this "
            f"sklearn-hform reads ({FORMAT_VERSION}); upgrade sklearn-hform"
        )
    return record


def _build_member(record, state, where):
    params = _from_json_params(FormationEnthalpyRegressor, record["params"], where)
    member = FormationEnthalpyRegressor(**{**params, "device": "cpu"})
    n_features = int(record["n_features_in_"])
    # initialize() draws random weights that are overwritten at once; doing
    # it in a forked generator leaves the caller's torch random state alone.
    with torch.random.fork_rng(devices=[]):
        net = member._build_net(n_features, "cpu", seed=0)
        net.initialize()
    try:
        net.module_.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{where}: weights do not fit the network: {exc}") from None
    net.module_.eval()
    member.net_ = net
    member.device_ = "cpu"
    member.n_iter_ = int(record["n_iter_"])
    member.n_features_in_ = n_features
    if "feature_names_in_" in record:
        member.feature_names_in_ = np.asarray(record["feature_names_in_"], dtype=object)
    return member


def _load(json_text, weights, source):
    record = _read_record(json_text, source)
    if hashlib.sha256(weights).hexdigest() != record.get("weights_sha256"):
        raise ValueError(f"{source}: {WEIGHTS_NAME} does not match {JSON_NAME} (checksum differs)")
    try:
        tensors = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for unreadable or unsafe files
        raise ValueError(f"{source}: cannot read {WEIGHTS_NAME} as plain tensors ({exc})") from None
    if not isinstance(tensors, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()
    ):
        raise ValueError(f"{source}: {WEIGHTS_NAME} is not a dict of named tensors")
    try:
        t_record = record["transformer"]
        transformer = CompositionFractionTransformer(
            **_from_json_params(CompositionFractionTransformer, t_record["params"], "transformer")
        )
        transformer.elements_ = np.asarray(t_record["elements_"], dtype=object)
        transformer.elements_seen_ = np.asarray(t_record["elements_seen_"], dtype=object)
        transformer.n_features_in_ = 1
        if "feature_names_in_" in t_record:
            transformer.feature_names_in_ = np.asarray(t_record["feature_names_in_"], dtype=object)

        members = []
        for i, m_record in enumerate(record["members"]):
            prefix = f"{i}."
            state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            members.append(_build_member(m_record, state, f"member {i}"))
        prefixes = {str(i) for i in range(len(members))}
        extra = sorted(k for k in tensors if k.split(".", 1)[0] not in prefixes)
        if extra:
            raise ValueError(f"{source}: weights for members that model.json does not describe: {extra[:3]}")

        r_record = record["regressor"]
        if r_record["class"] == "FormationEnthalpyRegressor":
            if len(members) != 1:
                raise ValueError(f"{source}: a FormationEnthalpyRegressor has one member, not {len(members)}")
            regressor = members[0]
        elif r_record["class"] == "DeepEnsembleRegressor":
            params = dict(r_record["params"])
            base = params.pop("estimator", None)
            if base is not None:
                base = _from_json_params(FormationEnthalpyRegressor, base, "estimator")
                params["estimator"] = FormationEnthalpyRegressor(**{**base, "device": "cpu"})
            regressor = DeepEnsembleRegressor(**_from_json_params(DeepEnsembleRegressor, params, "ensemble"))
            regressor.estimators_ = members
            regressor.n_features_in_ = int(r_record["n_features_in_"])
            if "feature_names_in_" in r_record:
                regressor.feature_names_in_ = np.asarray(r_record["feature_names_in_"], dtype=object)
        else:
            raise ValueError(f"{source}: unknown regressor class {r_record['class']!r}")
        t_name, r_name = record["steps"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{source}: malformed model file ({type(exc).__name__}: {exc})") from None
    return Pipeline([(t_name, transformer), (r_name, regressor)])


def load_pipeline(directory):
    """Load a pipeline written by :func:`save_pipeline`, ready to predict on the CPU.

    Parameters
    ----------
    directory : str or path-like
        Holds ``model.json`` and ``model.pt``.

    Returns
    -------
    pipeline : Pipeline
        Fitted; formulas in, formation enthalpy (eV/atom) out. Its regressors
        have ``device="cpu"`` whatever device trained them.

    Raises
    ------
    FileNotFoundError
        If a file is missing.
    ValueError
        If the files are not a model this version can read, or do not match.
    """
    directory = Path(directory)
    json_path, weights_path = directory / JSON_NAME, directory / WEIGHTS_NAME
    for path in (json_path, weights_path):
        if not path.is_file():
            raise FileNotFoundError(f"no saved model in {str(directory)!r}: {path.name} is missing")
    return _load(json_path.read_text(encoding="utf-8"), weights_path.read_bytes(), str(directory))


def load_metadata(directory):
    """The ``metadata`` dict stored by :func:`save_pipeline`, without loading weights.

    Parameters
    ----------
    directory : str or path-like

    Returns
    -------
    dict
    """
    path = Path(directory) / JSON_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no saved model in {str(directory)!r}: {JSON_NAME} is missing")
    return _read_record(path.read_text(encoding="utf-8"), str(directory))["metadata"]


def _pretrained_root():
    """The folder holding one sub-folder per pretrained model (package data)."""
    return resources.files(__package__)


def _pretrained_files(name):
    if name not in PRETRAINED_NAMES:
        raise ValueError(f"unknown pretrained model {name!r}; available: {_describe_available()}")
    folder = _pretrained_root() / name
    json_file, weights_file = folder / JSON_NAME, folder / WEIGHTS_NAME
    if not (json_file.is_file() and weights_file.is_file()):
        raise FileNotFoundError(
            f"pretrained model {name!r} is not installed with this copy of sklearn-hform "
            f"(train it with scripts/train_pretrained.py); available: {_describe_available()}"
        )
    return json_file, weights_file


def available_pretrained():
    """Names of the pretrained models installed with the package.

    Returns
    -------
    list of str
        A subset of ``PRETRAINED_NAMES``.
    """
    folder = _pretrained_root()
    return [n for n in PRETRAINED_NAMES if (folder / n / JSON_NAME).is_file() and (folder / n / WEIGHTS_NAME).is_file()]


def _describe_available():
    installed = available_pretrained()
    return ", ".join(f"{n!r}" + ("" if n in installed else " (not installed)") for n in PRETRAINED_NAMES)


def load_pretrained(name="paper"):
    """Load a model shipped with the package: formulas in, eV/atom out.

    Parameters
    ----------
    name : {"paper", "best"}, default="paper"
        ``"paper"`` is the Table-1 network of Ti et al. (2020); ``"best"``
        the most accurate model this package trains, a
        :class:`~sklearn_hform.DeepEnsembleRegressor` whose ``predict``
        accepts ``return_std=True``. Both were trained on the OQMD train and
        validation splits by ``scripts/train_pretrained.py``; see
        :func:`load_pretrained_metadata` for how and to what test error.

    Returns
    -------
    pipeline : Pipeline
        Fitted, predicting on the CPU.

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
    json_file, weights_file = _pretrained_files(name)
    return _load(json_file.read_text(encoding="utf-8"), weights_file.read_bytes(), f"pretrained model {name!r}")


def load_pretrained_metadata(name="paper"):
    """How a pretrained model was made: command, seed, hardware, time, test error.

    Parameters
    ----------
    name : {"paper", "best"}, default="paper"

    Returns
    -------
    dict
    """
    json_file, _ = _pretrained_files(name)
    return _read_record(json_file.read_text(encoding="utf-8"), f"pretrained model {name!r}")["metadata"]
