"""Which torch device a fit runs on: the accepted spellings and ``"auto"``."""

import re

__all__ = ["DEVICE_FORMS", "check_device", "cuda_visible", "resolve_device"]

#: The spellings ``device`` accepts, as shown in error messages.
DEVICE_FORMS = ('"auto"', '"cpu"', '"cuda"', '"cuda:N"', '"mps"')
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?|mps")


def check_device(device):
    """Raise ``ValueError`` unless ``device`` is one of :data:`DEVICE_FORMS`.

    This checks the spelling only and imports nothing, so it can run
    before any work (and in the command line's argument parsing).

    Parameters
    ----------
    device : str

    Returns
    -------
    device : str
    """
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ValueError(f"device={device!r} is not a device; use one of {', '.join(DEVICE_FORMS)}")
    return device


def resolve_device(device):
    """The concrete device a fit with ``device`` runs on.

    Parameters
    ----------
    device : str
        One of :data:`DEVICE_FORMS`. ``"auto"`` means ``"cuda"`` when torch
        sees a GPU, else ``"cpu"``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``device`` is misspelt, or names hardware torch cannot see.
    """
    check_device(device)
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but torch sees no CUDA device")
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r} but torch sees {torch.cuda.device_count()} CUDA device(s)")
    if device == "mps":
        backend = getattr(torch.backends, "mps", None)
        if backend is None or not backend.is_available():
            raise ValueError("device='mps' but this torch build has no usable MPS backend")
    return device


def cuda_visible():
    """Whether torch sees a CUDA device, asked only when torch is already loaded.

    Estimator tags are read often; importing torch to answer would defeat
    the package's lazy imports.

    Returns
    -------
    bool
    """
    import sys

    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_available())
