"""The composition transformer's training epoch, against bare PyTorch loops and the arithmetic floor.

Default network (d_model 128, 3 layers, 4 heads, feed-forward 512), OQMD
training rows, batch 512, side by side in one process, the trainers
interleaved round by round so that the machine's noise falls on all of
them alike:

- ``CompositionTransformerRegressor(...).fit``: an epoch after the first
  (skorch's history ``dur``);
- a bare PyTorch loop over :class:`~sklearn_hform.neural_network.ElementAttentionNet`,
  random batches of fraction vectors, each padded to its largest row;
- the same bare loop, random batches each regrouped by element count and
  sliced to exactly its tokens (the estimator's own scheme);
- the same bare loop, batches drawn from rows of equal element count (then
  shuffled), each sliced to exactly its tokens: faster, but each step sees
  rows of one element count only, which costs accuracy (``--accuracy``);
- the arithmetic floor: the multiply-adds of the network's forward and
  backward passes over the epoch's tokens, at the rate this CPU reaches in
  a large float32 matrix product.

Then float32 against bfloat16 autocast (what ``mixed_precision="auto"``
chooses between), K members one by one against K members stacked where the
module allows it, and inference in formulas/s (featurising included) for the
shipped ``best`` ensemble. On a machine with a GPU the epoch comparison runs
on CUDA as well (skipped, and said so, without one).

Prints a table and whether the target is met: an epoch within 1.1x of the
bare length-bucketed loop.

``--accuracy`` runs the accuracy check instead: seeded 5-epoch fits on the
``--rows`` training rows, with the estimator's batches grouped by element
count and with 0.1's random batches padded to their largest row (the same
estimator, its module made to refuse token batches), test MAE on the first
``--test-rows`` of the test split, for ``--seeds`` seeds: the difference
between the two paths against the spread between seeds.

    python benchmarks/bench_transformer.py [--rows 50000] [--epochs 3] [--rounds 3] [--json FILE]
    python benchmarks/bench_transformer.py --accuracy [--seeds 3]
    python benchmarks/bench_transformer.py --compile [--rows 20000 --rounds 2]

``--compile`` asks whether ``torch.compile`` pays on this CPU: the bare
grouped loop eager against the same loop with the encoder compiled (one
dynamic-shape graph for every group), interleaved. The estimator does not
compile its step: on the machines measured so far it did not pay (see the
performance page).
"""

import argparse
import json
import time

import numpy as np
import torch

from sklearn_hform import CompositionFractionTransformer, CompositionTransformerRegressor
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import ElementAttentionNet

NETWORK = dict(d_model=128, n_heads=4, n_layers=3, dim_feedforward=512)
TARGET_RATIO = 1.1


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def ours(X, y, batch_size, epochs, device, mixed_precision=False):
    """Median epoch of the estimator, the first (warm-up) epoch left out."""
    model = CompositionTransformerRegressor(**NETWORK, batch_size=batch_size, max_epochs=epochs + 1, random_state=0,
                                            device=device, mixed_precision=mixed_precision)
    model.fit(X, y)
    return float(np.median(model.net_.history[1:, "dur"]))


def _plan(order, lengths, batch_size, mode, rng):
    """Row order and batches (lists of (start, stop, length) groups) of one epoch of a bare loop."""
    if mode == "bucketed":
        # Batches drawn from rows of one element count, then shuffled.
        order = order[np.argsort(lengths[order], kind="stable")]
        plan, start = [], 0
        for length, count in zip(*np.unique(lengths[order], return_counts=True)):
            plan += [[(s, min(s + batch_size, start + count), int(length))]
                     for s in range(start, start + count, batch_size)]
            start += count
        return order, [plan[i] for i in rng.permutation(len(plan))]
    plan = []
    for first in range(0, len(order), batch_size):
        rows = order[first:first + batch_size]
        if mode == "padded":
            plan.append([(first, first + len(rows), None)])
            continue
        # Random batches, each regrouped by element count.
        rows = rows[np.argsort(lengths[rows], kind="stable")]
        order[first:first + len(rows)] = rows
        groups, start = [], first
        for length, count in zip(*np.unique(lengths[rows], return_counts=True)):
            groups.append((start, start + int(count), int(length)))
            start += int(count)
        plan.append(groups)
    return order, plan


def bare(X, y, batch_size, epochs, device, mode, mixed_precision=False, compiled=False):
    """Median epoch of a plain loop over the module: AdamW, L1 loss.

    ``mode``: "padded" (random batches of fraction vectors, each padded by
    the module to its largest row), "bucketed" (batches of rows of one
    element count, exactly their tokens) or "grouped" (random batches, each
    regrouped by element count, exactly their tokens). ``compiled``: the
    per-group encoder (``pool``) through ``torch.compile(dynamic=True)``, so
    one graph serves every group shape; its compile time falls in the
    warm-up epoch.
    """
    torch.manual_seed(0)
    module = ElementAttentionNet(X.shape[1], **NETWORK).to(device)
    if compiled:
        module.pool = torch.compile(module.pool, dynamic=True)
    optimizer = torch.optim.AdamW(module.parameters(), lr=7e-4, weight_decay=1e-4, foreach=True)
    Xt = torch.tensor(X, dtype=torch.float32, device=device)
    yt = torch.tensor(y, dtype=torch.float32, device=device)
    lengths = np.maximum((X > 0).sum(axis=1), 1)
    # Tokens once per fit; a group is a slice of rows of one length.
    fractions, elements = Xt.topk(int(lengths.max()), dim=1)
    rng = np.random.default_rng(0)
    device_type = torch.device(device).type
    times = []
    for _ in range(epochs + 1):
        sync(device)
        t0 = time.perf_counter()
        order, plan = _plan(rng.permutation(len(X)), lengths, batch_size, mode, rng)
        index = torch.as_tensor(order, device=device)
        xs, f, e, target = Xt[index], fractions[index], elements[index], yt[index]
        total = torch.zeros((), device=device)
        for groups in plan:
            first, last = groups[0][0], groups[-1][1]
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=mixed_precision):
                if mode == "padded":
                    out = module(xs[first:last])
                else:
                    out = module(tuple((f[a:b, :k], e[a:b, :k]) for a, b, k in groups))
                loss = torch.nn.functional.l1_loss(out.float(), target[first:last])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        total.item()
        sync(device)
        times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]))


def floor_seconds(X, device, batch_size):
    """The epoch's multiply-adds at the rate of a large float32 matrix product on ``device``."""
    d, ff, layers = NETWORK["d_model"], NETWORK["dim_feedforward"], NETWORK["n_layers"]
    k = np.maximum((X > 0).sum(axis=1), 1).astype(np.float64)
    tokens = k.sum()
    per_token = (2 * d + d * d  # fraction code network
                 + layers * (4 * d * d + 2 * d * ff))  # q, k, v, out projections and the feed-forward block
    attention = layers * 2 * d * (k * k).sum()  # scores and weighted values, every token against its row's
    head = len(X) * (d * 2 * d + 2 * d * d + d)
    forward_flops = 2 * (per_token * tokens + attention + head)
    flops = 3 * forward_flops  # a backward pass costs about twice the forward
    n = 2048
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(2):
        a @ b
    sync(device)
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    rate = reps * 2 * n ** 3 / (time.perf_counter() - t0)
    return flops / rate, flops, rate


def members(X, y, batch_size, epochs, device, k=2):
    """K members trained one by one (the transformer does not stack: its module is not vmap_safe)."""
    from sklearn_hform import DeepEnsembleRegressor

    member = CompositionTransformerRegressor(**NETWORK, batch_size=batch_size, max_epochs=epochs, device=device)
    t0 = time.perf_counter()
    DeepEnsembleRegressor(member, n_estimators=k, random_state=0).fit(X, y)
    return time.perf_counter() - t0


def inference(n):
    """Formulas/s of the shipped ``best`` ensemble on ``n`` test formulas (featurising included)."""
    from sklearn_hform import load_pretrained

    model = load_pretrained("best")
    formulas = load_oqmd_hform(split="test", return_X_y=True)[0].iloc[:, 0].to_numpy(dtype=object)
    formulas = np.resize(formulas, n)
    model.predict(formulas[:1000])
    t0 = time.perf_counter()
    model.predict(formulas)
    return n / (time.perf_counter() - t0)


class PaddedBatchesRegressor(CompositionTransformerRegressor):
    """The estimator trained on random batches padded to their largest row, as before length buckets."""

    def build_module(self, n_features):
        module = super().build_module(n_features)
        # Instance flags override the class's: the engine then batches rows, and never captures.
        module.token_batches = False
        module.cuda_graph_safe = False
        return module


def accuracy(X, y, args):
    from sklearn.metrics import mean_absolute_error

    X_test_text, y_test = load_oqmd_hform(split="test", return_X_y=True)
    X_test = CompositionFractionTransformer().fit_transform(X_test_text[: args.test_rows]).astype(np.float32)
    y_test = y_test[: args.test_rows].to_numpy()
    print(f"test MAE after 5 epochs on {len(X):,} rows ({len(X_test):,} test rows), batch {args.batch_size}")
    print(f"  {'seed':>4} {'grouped':>15} {'padded batches':>15} {'s (grouped)':>12} {'s (padded)':>11}")
    rows = []
    for seed in range(args.seeds):
        row = {"seed": seed}
        for name, cls in (("buckets", CompositionTransformerRegressor), ("padded", PaddedBatchesRegressor)):
            t0 = time.perf_counter()
            model = cls(**NETWORK, batch_size=args.batch_size, max_epochs=5, random_state=seed, device="cpu")
            model.fit(X, y)
            row[f"{name}_s"] = time.perf_counter() - t0
            row[name] = float(mean_absolute_error(y_test, model.predict(X_test)))
        rows.append(row)
        print(f"  {seed:>4} {row['buckets']:15.4f} {row['padded']:15.4f} {row['buckets_s']:12.1f} "
              f"{row['padded_s']:11.1f}")
    buckets = np.array([r["buckets"] for r in rows])
    padded = np.array([r["padded"] for r in rows])
    spread = max(buckets.std(ddof=1), padded.std(ddof=1)) if len(rows) > 1 else float("nan")
    print(f"  mean {buckets.mean():.4f} (grouped) vs {padded.mean():.4f} (padded): difference "
          f"{buckets.mean() - padded.mean():+.4f}; seed-to-seed std {buckets.std(ddof=1):.4f} / "
          f"{padded.std(ddof=1):.4f}")
    same = abs(buckets.mean() - padded.mean()) <= spread
    print(f"  target: the same test MAE within the seed-to-seed spread: {'met' if same else 'NOT met'}")
    return {"fits": rows, "seed_std": float(spread), "target_met": bool(same)}


BARE = {
    "bare_padded": ("padded", "bare loop, random batches padded to their largest row"),
    "bare_grouped": ("grouped", "bare loop, random batches grouped by element count"),
    "bare_bucketed": ("bucketed", "bare loop, batches of one element count"),
}


def compile_check(X, y, args):
    """The bare grouped loop eager and with ``torch.compile``, interleaved; the warm-up epoch holds the compile."""
    eager, compiled, first = [], [], []
    for _ in range(args.rounds):
        eager.append(bare(X, y, args.batch_size, args.epochs, "cpu", "grouped"))
        t0 = time.perf_counter()
        compiled.append(bare(X, y, args.batch_size, args.epochs, "cpu", "grouped", compiled=True))
        first.append(time.perf_counter() - t0 - args.epochs * compiled[-1])
    eager_s, compiled_s = float(np.median(eager)), float(np.median(compiled))
    print(f"[cpu] bare grouped loop: eager {eager_s:.3f} s/epoch, torch.compile {compiled_s:.3f} s/epoch "
          f"({eager_s / compiled_s:.2f}x speed-up); the compiled loop's first epoch "
          f"{float(np.median(first)):.1f} s (compiling included)")
    return {"eager_s": eager, "compiled_s": compiled, "compiled_first_epoch_s": first,
            "speedup": eager_s / compiled_s}


def epoch_table(X, y, args, device, rounds):
    results = {"ours": [], **{name: [] for name in BARE}}
    for _ in range(rounds):
        results["ours"].append(ours(X, y, args.batch_size, args.epochs, device))
        for name, (mode, _) in BARE.items():
            results[name].append(bare(X, y, args.batch_size, args.epochs, device, mode))
    return {name: float(np.median(times)) for name, times in results.items()}, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per trainer and round (after one warm-up)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--inference-rows", type=int, default=100_000)
    parser.add_argument("--json", help="write the figures to this file too")
    parser.add_argument("--accuracy", action="store_true", help="the seeded accuracy check instead of the timings")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test-rows", type=int, default=20_000)
    parser.add_argument("--compile", action="store_true",
                        help="whether torch.compile pays on this CPU instead of the timings")
    args = parser.parse_args()

    X_text, y = load_oqmd_hform(split="train", return_X_y=True)
    X = CompositionFractionTransformer().fit_transform(X_text[: args.rows]).astype(np.float32)
    y = y[: args.rows].to_numpy(dtype=np.float32)
    print(f"{len(X):,} rows, batch {args.batch_size}, network {NETWORK}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; median of {args.rounds} rounds x {args.epochs} epochs")
    report = {"rows": len(X), "batch_size": args.batch_size, "network": NETWORK, "threads": torch.get_num_threads()}
    if args.accuracy or args.compile:
        report["accuracy" if args.accuracy else "compile"] = (accuracy if args.accuracy else compile_check)(X, y, args)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=2)
        return

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        medians, raw = epoch_table(X, y, args, device, args.rounds)
        floor, flops, rate = floor_seconds(X, device, args.batch_size)
        ratio = medians["ours"] / medians["bare_bucketed"]
        print(f"\n[{device}] one epoch")
        print(f"  {'trainer':<52} {'s/epoch':>8} {'x bucketed':>10} {'x grouped':>10}")
        rows = [("ours", "CompositionTransformerRegressor.fit")] + [(k, label) for k, (_, label) in BARE.items()]
        for name, label in rows:
            print(f"  {label:<52} {medians[name]:8.3f} {medians[name] / medians['bare_bucketed']:10.2f} "
                  f"{medians[name] / medians['bare_grouped']:10.2f}")
        floor_label = f"arithmetic floor ({flops / 1e9:.0f} GFLOP at {rate / 1e9:.0f} GFLOP/s)"
        print(f"  {floor_label:<52} {floor:8.3f} {floor / medians['bare_bucketed']:10.2f} "
              f"{floor / medians['bare_grouped']:10.2f}")
        met = ratio <= TARGET_RATIO
        grouped_ratio = medians["ours"] / medians["bare_grouped"]
        print(f"  target: ours within {TARGET_RATIO}x of the bare loop over batches of one element count: "
              f"{ratio:.2f}x, {'met' if met else 'NOT met'}")
        print(f"  ours against the bare loop of its own scheme (random batches grouped): {grouped_ratio:.2f}x; "
              f"against today's padded batches: {medians['ours'] / medians['bare_padded']:.2f}x")
        report[device] = {"median_s": medians, "rounds_s": raw, "floor_s": floor, "flops": flops,
                          "matmul_flops_per_s": rate, "ratio_to_bucketed": ratio, "target_met": met,
                          "ratio_to_grouped": grouped_ratio}
    if not torch.cuda.is_available():
        print("\n[cuda] skipped: no GPU on this machine")

    fp32 = ours(X, y, args.batch_size, 1, "cpu")
    bf16 = ours(X, y, args.batch_size, 1, "cpu", mixed_precision=True)
    print(f"\n[cpu] float32 epoch {fp32:.3f} s, bfloat16 autocast epoch {bf16:.3f} s: bf16 is {fp32 / bf16:.2f}x")
    report["precision_epoch_s"] = {"float32": fp32, "bfloat16": bf16}

    one_by_one = members(X, y, args.batch_size, 1, "cpu")
    print(f"[cpu] 2 members x 1 epoch, one by one (the module is not vmap_safe: no stacked path): {one_by_one:.1f} s")
    report["two_members_one_epoch_s"] = one_by_one

    rate = inference(args.inference_rows)
    print(f"[cpu] best ensemble, predict from formulas: {rate:,.0f} formulas/s on {args.inference_rows:,}")
    report["best_formulas_per_s"] = rate
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
