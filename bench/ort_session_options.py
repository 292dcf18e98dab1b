#!/usr/bin/env python3
"""What else in an ONNX Runtime session costs time at pixfly's size: one option changed at a time
against pixfly's settings, on the same prepared pictures, float and int8, in one run.

Usage: ort_session_options.py COLLECTION [--images N]   (bench/embed.sh runs it)

pixfly's settings (embed/model.rs, embed/serve.rs): one session per core with one intra-op thread
each, spinning off, graph optimization "all" (ONNX Runtime's default), batches of 32, NCHW float
input. Variants: batch 8 / 16 / 64; one session with a thread per core; spinning on; graph
optimization "basic" / "extended"; threads pinned to cores (intra-op affinity, for the one-session
variant). NHWC input needs no variant: ONNX Runtime already runs int8 convolutions in NHWC inside
(its NhwcTransformer at level "all"; level "extended" leaves it out, which shows its worth).
Rounds alternate the variants; the best of three counts. Reported: images/s and ÷ pixfly's.
"""
import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from quantize_efficientnet_lite import prepare  # noqa: E402

MODELS = Path(os.environ.get("PIXFLY_CACHE") or Path.home() / ".cache/pixfly") / "models"
CORES = os.cpu_count() or 1
LEVELS = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL, "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
          "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC}


def session(path, threads, spinning=False, level="all", affinity=False):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.graph_optimization_level = LEVELS[level]
    o.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if affinity and threads > 1:
        # Threads after the caller's, one a core (the caller runs on core 1).
        o.add_session_config_entry("session.intra_op_thread_affinities", ";".join(str(c + 1) for c in range(1, threads)))
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def rate(sessions, x, batch):
    """Images/s with the sessions taking batches from one queue, each on its own thread."""
    batches = [x[i:i + batch] for i in range(0, len(x), batch)]
    lock = threading.Lock()

    def work(s):
        while True:
            with lock:
                if not batches:
                    return
                b = batches.pop()
            s.run(None, {"input": b})

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(x) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("collection", type=Path)
    ap.add_argument("--images", type=int, default=384)
    args = ap.parse_args()
    files = sorted(p for p in args.collection.rglob("*") if p.suffix.lower() in (".png", ".jpg"))[:args.images]
    x = np.concatenate([prepare(f, 224, 0.875, 127, 128) for f in files])
    print(f"{len(x)} pictures from {args.collection}, {CORES} cores, onnxruntime {ort.__version__}")
    variants = {
        "pixfly: 1 session/core, batch 32": dict(),
        "batch 8": dict(batch=8),
        "batch 16": dict(batch=16),
        "batch 64": dict(batch=64),
        f"1 session, {CORES} threads": dict(one=True),
        f"1 session, {CORES} threads, pinned": dict(one=True, affinity=True),
        "spinning on": dict(spinning=True),
        "graph optimization extended": dict(level="extended"),
        "graph optimization basic": dict(level="basic"),
    }
    for precision in ("", "-int8"):
        path = MODELS / f"efficientnet-lite0{precision}.onnx"
        made = {}
        for name, v in variants.items():
            options = dict(spinning=v.get("spinning", False), level=v.get("level", "all"), affinity=v.get("affinity", False))
            made[name] = ([session(path, CORES, **options)] if v.get("one") else
                          [session(path, 1, **options) for _ in range(CORES)], v.get("batch", 32))
            rate(made[name][0], x[:64], made[name][1])  # warm up
        best = {name: 0.0 for name in variants}
        for _ in range(3):
            for name, (sessions, batch) in made.items():
                best[name] = max(best[name], rate(sessions, x, batch))
        base = best["pixfly: 1 session/core, batch 32"]
        print(f"== {path.stem}")
        for name, r in best.items():
            print(f"  {name:40} {r:7.1f} images/s  {r / base:5.2f}x")


if __name__ == "__main__":
    main()
