"""``mixed_precision="auto"``: bfloat16 autocast where it is measured faster than float32, on this machine.

Whether bfloat16 pays depends on the processor (AMX or AVX512-BF16 on the
CPU, tensor cores on a GPU), on the network and on the batch: on a 2-core
Xeon with AMX, the default composition transformer's epoch ran at 0.90x
the speed of float32 under bfloat16 autocast (benchmarks/bench_transformer.py),
while a CPU's flags would have promised a gain. So it is measured, not read
from the flags: a few forward and
backward passes of the module on a batch of the fit's own data, in float32
and under bfloat16 autocast, interleaved, the fastest of each kept.

The module is measured in eval mode (no dropout draws from the fit's
generator, so a fit's random streams are those of a fit without ``"auto"``)
and its gradients are cleared afterwards; its weights do not change. A
choice is remembered for the rest of the process per device, architecture
and batch shape, so the members of an ensemble or the folds of a
cross-validation measure once.
"""

import time

import torch

__all__ = ["MARGIN", "choose_precision"]

#: bfloat16 is chosen when its step takes less than this share of float32's:
#: a tie within the timing noise keeps float32's digits.
MARGIN = 0.9
#: Untimed passes of each precision, then timed ones.
WARMUP, REPEATS = 2, 3

_CHOICES = {}


def _shape(batch):
    if torch.is_tensor(batch):
        return tuple(batch.shape)
    return tuple(_shape(b) for b in batch)


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _pass_seconds(module, X, device, bf16):
    device_type = torch.device(device).type
    _sync(device)
    t0 = time.perf_counter()
    with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
        out = module(X)
    out.float().sum().backward()
    _sync(device)
    return time.perf_counter() - t0


def choose_precision(module, X, device):
    """Whether to train ``module`` under bfloat16 autocast on ``device``, by timing both on the batch ``X``.

    Parameters
    ----------
    module : torch.nn.Module
        On ``device``; left in the mode it was in, with no gradients.
    X : torch.Tensor or tuple of torch.Tensor
        A training batch, as the module takes it.
    device : str

    Returns
    -------
    dict
        ``mixed_precision`` (bool, the choice), ``float32_s`` and
        ``bfloat16_s`` (the fastest pass of each), ``device`` and
        ``remembered`` (True when an earlier fit of the process measured
        the same case).
    """
    key = (str(device), type(module).__qualname__, repr(module), _shape(X))
    if key in _CHOICES:
        return {**_CHOICES[key], "remembered": True}
    training = module.training
    module.eval()
    times = {False: [], True: []}
    try:
        with torch.enable_grad():
            for i in range(WARMUP + REPEATS):
                for bf16 in (False, True):
                    seconds = _pass_seconds(module, X, device, bf16)
                    if i >= WARMUP:
                        times[bf16].append(seconds)
    finally:
        module.train(training)
        module.zero_grad(set_to_none=True)
    fp32, bf16 = min(times[False]), min(times[True])
    choice = {"mixed_precision": bool(bf16 < MARGIN * fp32), "float32_s": fp32, "bfloat16_s": bf16,
              "device": str(device)}
    _CHOICES[key] = choice
    return {**choice, "remembered": False}
