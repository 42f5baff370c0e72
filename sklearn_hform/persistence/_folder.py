"""Writing and reading a model folder: JSON records, safetensors weights, checksums."""


import datetime
import hashlib
import inspect
import json
import numbers
import warnings
from pathlib import Path

import numpy as np

from .._version import __version__
from ._registry import registered_name, resolve_class

__all__ = ["FORMAT_VERSION", "decode_estimator", "encode_estimator", "load_model", "load_model_metadata", "save_model"]

FORMAT = "sklearn-hform-model"
#: Version of the folder layout written by :func:`save_model`.
FORMAT_VERSION = 2
JSON_NAME = "model.json"
WEIGHTS_NAME = "model.safetensors"
SUMS_NAME = "SHA256SUMS"

_PIPELINE = "Pipeline"
# Parameters that only matter while training and have no JSON form.
_TRAINING_ONLY = ("callbacks",)


def _to_json(value, where):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _to_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    if hasattr(value, "get_params"):
        return {"class": registered_name(value), "params": _encode_params(value, where)}
    raise TypeError(f"{where} = {value!r} cannot be saved as JSON")


def _encode_params(estimator, where):
    params = estimator.get_params(deep=False)
    for name in _TRAINING_ONLY:
        if name in params:
            params[name] = None
    if "random_state" in params and not isinstance(params["random_state"], (numbers.Integral, type(None))):
        # A RandomState instance has no JSON form; its role ended with fit.
        params["random_state"] = None
    return {k: _to_json(v, f"{where}.{k}") for k, v in params.items()}


class _Malformed(ValueError):
    """A model record whose structure is not what :func:`encode_estimator` writes."""


def _check_record(record):
    if not isinstance(record, dict) or not isinstance(record.get("class"), str):
        raise _Malformed("a model record must be a JSON object with a 'class' name")
    if record["class"] == _PIPELINE:
        steps = record.get("steps")
        if not (isinstance(steps, list) and steps and all(isinstance(s, list) and len(s) == 2 for s in steps)):
            raise _Malformed("a Pipeline record needs 'steps': a non-empty list of [name, record] pairs")
        return
    for key, kind, what in (("params", dict, "an object"), ("state", dict, "an object"), ("tensors", str, "a string")):
        if not isinstance(record.get(key), kind):
            raise _Malformed(f"the {record['class']} record needs {key!r}: {what}")


def _decode_params(cls, params, where):
    if not isinstance(params, dict):
        raise _Malformed(f"{where}: the parameters must be a JSON object")
    signature = inspect.signature(cls.__init__).parameters
    unknown = sorted(set(params) - set(signature))
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {unknown} for {cls.__name__}")
    restored = {}
    for key, value in params.items():
        if isinstance(value, dict) and set(value) == {"class", "params"}:
            inner = resolve_class(value["class"])
            value = inner(**_decode_params(inner, value["params"], f"{where}.{key}"))
        elif isinstance(signature[key].default, tuple) and isinstance(value, list):
            value = tuple(value)
        restored[key] = value
    return restored


def encode_estimator(estimator, prefix):
    """The record and tensors of a fitted registered estimator or Pipeline.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Fitted.
    prefix : str
        Prefix of this estimator's tensor keys, unique among its siblings:
        a nested estimator's prefix is relative to its parent's, since each
        estimator restores itself from its own tensors only.

    Returns
    -------
    record : dict
        ``{"class", "params", "state", "tensors"}`` (``"steps"`` for a
        Pipeline), ready for JSON.
    tensors : dict of str to torch.Tensor
    """
    from sklearn.pipeline import Pipeline

    if type(estimator) is Pipeline:
        steps, tensors = [], {}
        for name, step in estimator.steps:
            if step is None or step == "passthrough":
                raise TypeError("a Pipeline with 'passthrough' steps cannot be saved")
            record, step_tensors = encode_estimator(step, f"{prefix}.{name}")
            steps.append([name, record])
            tensors.update(step_tensors)
        return {"class": _PIPELINE, "steps": steps}, tensors
    name = registered_name(estimator)
    attributes, own = estimator.export_state()
    tensors = {f"{prefix}.{key}": t for key, t in own.items()}
    record = {"class": name, "params": _encode_params(estimator, name),
              "state": _to_json(attributes, f"{name} state"), "tensors": prefix}
    return record, tensors


def decode_estimator(record, tensors):
    """The fitted estimator (or Pipeline) that :func:`encode_estimator` described.

    Parameters
    ----------
    record : dict
    tensors : dict of str to torch.Tensor
        All of the model's tensors; each estimator takes those under its
        prefix.

    Returns
    -------
    estimator

    Raises
    ------
    ValueError
        If the record's structure is not what :func:`encode_estimator`
        writes, or the estimator refuses its state.
    """
    from sklearn.pipeline import Pipeline

    _check_record(record)
    if record["class"] == _PIPELINE:
        return Pipeline([(name, decode_estimator(step, tensors)) for name, step in record["steps"]])
    cls = resolve_class(record["class"])
    estimator = cls(**_decode_params(cls, record["params"], record["class"]))
    prefix = record["tensors"] + "."
    own = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    return estimator.restore_state(record["state"], own)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def save_model(model, directory, metadata=None):
    """Write a fitted estimator or Pipeline to ``directory``.

    Parameters
    ----------
    model : estimator or Pipeline
        Fitted; every estimator in it must be registered (all of this
        package's are; see :func:`~sklearn_hform.persistence.register_estimator`).
    directory : str or path-like
        Created if needed; the model files in it are replaced.
    metadata : dict, default=None
        Anything JSON can hold (training command, seed, hardware, test
        error, ...); returned by :func:`load_model_metadata`.

    Returns
    -------
    directory : pathlib.Path

    Notes
    -----
    Training-only parameters without a JSON form are not saved:
    ``callbacks`` is stored as ``None`` and a ``random_state`` given as a
    ``RandomState`` instance as ``None``.
    """
    from safetensors.torch import save

    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    metadata = _to_json(metadata or {}, "metadata")
    record, tensors = encode_estimator(model, "model")
    import torch

    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_hform_version": __version__,
        "torch_version": torch.__version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model": record,
        "metadata": metadata,
    }
    files = {JSON_NAME: (json.dumps(document, indent=2) + "\n").encode("utf-8"), WEIGHTS_NAME: save(tensors)}
    sums = "".join(f"{_sha256(data)}  {name}\n" for name, data in files.items())
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    (directory / SUMS_NAME).write_text(sums, encoding="ascii")
    return directory


def _read_checked(directory):
    """``model.json``'s document and the weights' bytes, after the checksums."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no saved model: {str(directory)!r} is not a directory")
    sums_path = directory / SUMS_NAME
    if not sums_path.is_file():
        from ._legacy import is_legacy_model

        if is_legacy_model(directory):
            return None, None
        raise FileNotFoundError(f"no saved model in {str(directory)!r}: {SUMS_NAME} is missing")
    expected = {}
    for line in sums_path.read_text(encoding="ascii", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        expected[name.strip()] = digest.strip()
    data = {}
    for name in (JSON_NAME, WEIGHTS_NAME):
        path = directory / name
        if not path.is_file():
            raise FileNotFoundError(f"no saved model in {str(directory)!r}: {name} is missing")
        data[name] = path.read_bytes()
        if expected.get(name) != _sha256(data[name]):
            raise ValueError(
                f"{directory}: {name} does not match its checksum in {SUMS_NAME}; the file was changed "
                "or damaged after the model was saved, so it is refused"
            )
    return _parse_document(data[JSON_NAME], str(directory)), data[WEIGHTS_NAME]


def _parse_document(raw, source):
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{source}: {JSON_NAME} is not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{source}: not a sklearn-hform model file")
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{source}: model format version {version!r} is newer than this sklearn-hform "
            f"reads ({FORMAT_VERSION}); upgrade sklearn-hform"
        )
    return document


def load_model(directory):
    """Load a model written by :func:`save_model`, ready to predict on the CPU.

    Folders written by sklearn-hform 0.1 (``model.json`` and ``model.pt``)
    load too, with a ``FutureWarning`` suggesting to save them again.

    Parameters
    ----------
    directory : str or path-like

    Returns
    -------
    estimator or Pipeline
        Fitted, as it was saved; its networks predict on the CPU.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    ValueError
        If the files were changed after saving, or are not a model this
        version can read.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    document, weights = _read_checked(directory)
    if document is None:
        from ._legacy import read_legacy_model

        warnings.warn(
            f"{directory} was saved by sklearn-hform 0.1 (format 1, pickle-based weights); "
            "save it again with sklearn_hform.persistence.save_model to convert it",
            FutureWarning,
            stacklevel=2,
        )
        record, tensors = read_legacy_model(directory)
    else:
        try:
            tensors = load(weights)
        except SafetensorError as exc:
            raise ValueError(f"{directory}: cannot read {WEIGHTS_NAME} ({exc})") from None
        record = document.get("model")
    try:
        return decode_estimator(record, tensors)
    except _Malformed as exc:
        raise ValueError(f"{directory}: malformed model file ({exc})") from None
    except (KeyError, TypeError) as exc:
        # An estimator's restore_state raises these for a state that lacks a
        # key or holds a wrong type; chained, because a bug in restore_state
        # raises them too, and then its traceback must stay visible.
        raise ValueError(f"{directory}: malformed model file ({type(exc).__name__}: {exc})") from exc


def load_model_metadata(directory):
    """The ``metadata`` dict stored with a model, checked but without building it.

    Parameters
    ----------
    directory : str or path-like

    Returns
    -------
    dict
    """
    document, _ = _read_checked(directory)
    if document is None:
        from ._legacy import read_legacy_metadata

        return read_legacy_metadata(directory)
    return document["metadata"]
