#!/usr/bin/env python3
"""NumPy baselines for `cohort bench`, measured in the same run as Cohort's kernels.

  gemm  --sizes 256,512,1024 --repeats 5      float32 square matmul, best-of GFLOP/s
  train --model logistic|mlp --n N --d D --hidden 64,32 --batch 32 --epochs E
        mini-batch SGD written with NumPy array operations (the usual hand-written loop), samples/s

Prints one JSON object on stdout.
"""
import argparse
import json
import time

import numpy as np


def gemm(args):
    out = {}
    rng = np.random.default_rng(1)
    for n in [int(s) for s in args.sizes.split(",")]:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        a @ b  # warm-up
        best = float("inf")
        for _ in range(args.repeats):
            t = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t)
        out[str(n)] = 2 * n ** 3 / best / 1e9
    return {"gflops": out, "numpy": np.__version__}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def train(args):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((args.n, args.d), dtype=np.float32)
    w_true = rng.standard_normal(args.d).astype(np.float32)
    y = (x @ w_true + rng.standard_normal(args.n).astype(np.float32) > 0).astype(np.float32)
    widths = [args.d] + ([int(h) for h in args.hidden.split(",")] if args.model == "mlp" else []) + [1]
    ws = [(rng.uniform(-1, 1, (widths[i + 1], widths[i])) * np.sqrt(6 / widths[i])).astype(np.float32) for i in range(len(widths) - 1)]
    bs = [np.zeros(widths[i + 1], dtype=np.float32) for i in range(len(widths) - 1)]
    lr = np.float32(0.05)
    t = time.perf_counter()
    seen = 0
    for _ in range(args.epochs):
        order = rng.permutation(args.n)
        for s in range(0, args.n, args.batch):
            idx = order[s:s + args.batch]
            xb, yb = x[idx], y[idx]
            acts = [xb]
            for i in range(len(ws)):
                z = acts[-1] @ ws[i].T + bs[i]
                acts.append(np.maximum(z, 0) if i < len(ws) - 1 else z)
            dz = (sigmoid(acts[-1][:, 0]) - yb)[:, None] / len(idx)
            for i in reversed(range(len(ws))):
                gw = dz.T @ acts[i]
                gb = dz.sum(axis=0)
                if i > 0:
                    da = dz @ ws[i]
                    dz = da * (acts[i] > 0)
                ws[i] -= lr * gw
                bs[i] -= lr * gb
            seen += len(idx)
    return {"samples_per_second": seen / (time.perf_counter() - t), "numpy": np.__version__}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gemm")
    g.add_argument("--sizes", default="256,512,1024")
    g.add_argument("--repeats", type=int, default=5)
    t = sub.add_parser("train")
    t.add_argument("--model", choices=["logistic", "mlp"], default="logistic")
    t.add_argument("--n", type=int, default=20000)
    t.add_argument("--d", type=int, default=100)
    t.add_argument("--hidden", default="64,32")
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--epochs", type=int, default=3)
    args = p.parse_args()
    print(json.dumps(gemm(args) if args.cmd == "gemm" else train(args)))


if __name__ == "__main__":
    main()
