"""Reading model folders written by sklearn-hform 0.1 (format 1).

Format 1 was ``model.json`` (one record for the transformer, one per
network, the SHA-256 of the weights) and ``model.pt`` (``torch.save`` of
``{"<member>.<key>": tensor}``). It is read here with
``torch.load(weights_only=True)`` and turned into the records of
:mod:`sklearn_hform.persistence`, so that the estimators restore themselves
as they do from the current format. Nothing writes format 1 any more.
"""

import hashlib
import io
import json
from pathlib import Path

# Nothing public: load_model and load_model_metadata read format 1 through these.
__all__ = []

_FORMAT = "sklearn-hform-pipeline"
_JSON, _WEIGHTS = "model.json", "model.pt"


def is_legacy_model(directory):
    """Whether ``directory`` holds a format-1 model.

    Parameters
    ----------
    directory : path-like

    Returns
    -------
    bool
    """
    path = Path(directory) / _JSON
    if not (path.is_file() and (Path(directory) / _WEIGHTS).is_file()):
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format") == _FORMAT
    except (ValueError, AttributeError):
        return False


def _read_document(directory):
    try:
        document = json.loads((Path(directory) / _JSON).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{directory}: {_JSON} is not valid JSON ({exc})") from None
    if document.get("format_version") != 1:
        raise ValueError(f"{directory}: unknown legacy format version {document.get('format_version')!r}")
    return document


def read_legacy_metadata(directory):
    """The ``metadata`` of a format-1 model.

    Parameters
    ----------
    directory : path-like

    Returns
    -------
    dict
    """
    return _read_document(directory)["metadata"]


def _member_record(member, prefix):
    state = {"n_features_in_": member["n_features_in_"], "n_iter_": member["n_iter_"]}
    if "feature_names_in_" in member:
        state["feature_names_in_"] = member["feature_names_in_"]
    # Format 1 always loaded its networks onto the CPU.
    params = {**member["params"], "device": "cpu"}
    return {"class": "FormationEnthalpyRegressor", "params": params, "state": state, "tensors": prefix}


def read_legacy_model(directory):
    """The model record and tensors of a format-1 folder, in the current layout.

    Parameters
    ----------
    directory : path-like

    Returns
    -------
    record : dict
        For :func:`sklearn_hform.persistence.decode_estimator`.
    tensors : dict of str to torch.Tensor

    Raises
    ------
    ValueError
        If the weights do not match the checksum in ``model.json`` or are
        not plain tensors.
    """
    import torch

    document = _read_document(directory)
    weights = (Path(directory) / _WEIGHTS).read_bytes()
    if hashlib.sha256(weights).hexdigest() != document.get("weights_sha256"):
        raise ValueError(f"{directory}: {_WEIGHTS} does not match {_JSON} (checksum differs)")
    try:
        old = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for unreadable or unsafe files
        raise ValueError(f"{directory}: cannot read {_WEIGHTS} as plain tensors ({exc})") from None
    try:
        t_name, r_name = document["steps"]
        t = document["transformer"]
        transformer = {
            "class": "CompositionFractionTransformer",
            "params": t["params"],
            "state": {k: t[k] for k in ("elements_", "elements_seen_", "feature_names_in_") if k in t},
            "tensors": f"model.{t_name}",
        }
        members, tensors = [], {}
        ensemble = document["regressor"]["class"] == "DeepEnsembleRegressor"
        for i, member in enumerate(document["members"]):
            # Tensor prefixes of nested records are relative to their parent's.
            prefix = f"estimators_.{i}" if ensemble else f"model.{r_name}"
            members.append(_member_record(member, prefix))
            full = f"model.{r_name}.{prefix}" if ensemble else prefix
            tensors.update({f"{full}.{k.split('.', 1)[1]}": v for k, v in old.items() if k.split(".", 1)[0] == str(i)})
        if ensemble:
            r = document["regressor"]
            params = dict(r["params"])
            if params.get("estimator") is not None:
                base = {**params["estimator"], "device": "cpu"}
                params["estimator"] = {"class": "FormationEnthalpyRegressor", "params": base}
            state = {"n_features_in_": r["n_features_in_"], "estimators_": members}
            if "feature_names_in_" in r:
                state["feature_names_in_"] = r["feature_names_in_"]
            regressor = {"class": "DeepEnsembleRegressor", "params": params, "state": state, "tensors": f"model.{r_name}"}
        else:
            (regressor,) = members
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{directory}: malformed format-1 model file ({type(exc).__name__}: {exc})") from None
    return {"class": "Pipeline", "steps": [[t_name, transformer], [r_name, regressor]]}, tensors
