"""Where pixfly's UMAP and umap-learn's differ, stage by stage (see bench/umap_ablation.sh).

For each data set and seed: umap-learn end to end, pixfly end to end, and hybrids that take
stages from the other: the kNN graph, the fuzzy graph, the start (spectral) and the SGD. Each
variant's 15-NN label accuracy in 2D and trustworthiness (k = 15, on up to 5,000 points), the
mean over the seeds, and the difference from umap-learn's.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse

sys.path.insert(0, str(Path(__file__).parent))
from umap_vs_umap_learn import fashion_mnist, quality  # noqa: E402


def bundle_vectors(bundle):
    """A bundle's network vectors (L2-normalised: the cosine metric's) and category labels."""
    bundle = Path(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    categories = [image["metadata"]["category"] for image in manifest["images"]]
    names = sorted(set(categories))
    vectors = np.load(bundle / manifest["embedding"]["path"]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
    return vectors, np.array([names.index(c) for c in categories])


def epochs(n):
    return 500 if n <= 10_000 else 200


def umap_learn_fit(x, metric, seed, stages):
    """umap-learn end to end; its kNN, graph and start saved into `stages` for pixfly."""
    import umap
    from umap.spectral import spectral_layout

    reducer = umap.UMAP(n_neighbors=15, min_dist=0.1, metric=metric, random_state=seed)
    t = time.perf_counter()
    layout = reducer.fit_transform(x)
    seconds = time.perf_counter() - t
    if hasattr(reducer, "_knn_indices"):
        indices, distances = reducer._knn_indices, reducer._knn_dists
    else:  # under 4,096 points it searches exactly, from all pairwise distances, and keeps none
        from sklearn.neighbors import NearestNeighbors
        distances, indices = NearestNeighbors(n_neighbors=15, metric=metric, algorithm="brute").fit(x).kneighbors(x)
    # Rows hold the point itself (first, but for duplicates); pixfly's neighbours leave it out.
    keep = indices != np.arange(len(x))[:, None]
    keep[keep.sum(axis=1) == 15, -1] = False
    np.save(stages / "knn_indices.npy", indices[keep].reshape(len(x), 14).astype(np.int64))
    np.save(stages / "knn_dists.npy", distances[keep].reshape(len(x), 14).astype(np.float32))
    graph = reducer.graph_.tocoo()
    save_graph(stages, graph)
    # The start its fit used: the spectral layout of the graph pruned of edges too weak to be
    # sampled (simplicial_set_embedding's first steps).
    pruned = graph.tocsr().copy()
    pruned.data[pruned.data < pruned.data.max() / epochs(len(x))] = 0.0
    pruned.eliminate_zeros()
    start = spectral_layout(x, pruned, 2, np.random.RandomState(seed), metric=metric)
    np.save(stages / "start.npy", start.astype(np.float32))
    return layout, seconds


def save_graph(folder, graph):
    np.save(folder / "graph_rows.npy", graph.row.astype(np.int32))
    np.save(folder / "graph_cols.npy", graph.col.astype(np.int32))
    np.save(folder / "graph_vals.npy", graph.data.astype(np.float32))


def umap_learn_sgd(x, metric, seed, stages):
    """umap-learn's SGD alone, on the graph and from the start in `stages`."""
    import umap.umap_ as uu

    rows, cols, vals = (np.load(stages / f"graph_{p}.npy") for p in ("rows", "cols", "vals"))
    graph = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=(len(x), len(x))).tocsr()
    start = np.load(stages / "start.npy").astype(np.float64)
    a, b = uu.find_ab_params(1.0, 0.1)
    layout, _ = uu.simplicial_set_embedding(
        x, graph, 2, 1.0, a, b, 1.0, 5, epochs(len(x)), start, np.random.RandomState(seed),
        metric, {}, False, {}, False,
    )
    return layout


def pixfly(data_path, out, metric, seed, **given):
    """pixfly's UMAP 2D (the `umap` bench), taking the stages in `given` from elsewhere."""
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PIXFLY_BENCH_INPUT=str(data_path), PIXFLY_BENCH_OUTPUT=str(out),
               PIXFLY_BENCH_METRIC=metric, PIXFLY_BENCH_SEED=str(seed))
    env.update({f"PIXFLY_BENCH_{k.upper()}": str(v) for k, v in given.items()})
    result = subprocess.run(["cargo", "bench", "--quiet", "--locked", "-p", "pixfly-core", "--bench", "umap"],
                            check=True, capture_output=True, text=True, env=env)
    return np.load(out / "layout.npy"), json.loads(result.stdout.strip().splitlines()[-1])["total"]


def variants(x, metric, seed, work, quick=False):
    """Each variant's layout, by name (only the two end to end when `quick`). `work` holds the
    data and every run's stages."""
    data = work / "data.npy"
    np.save(data, x)
    theirs, ours = work / "umap-learn", work / "pixfly"
    theirs.mkdir(exist_ok=True)
    layouts, seconds = {}, {}
    layouts["umap-learn"], seconds["umap-learn"] = umap_learn_fit(x, metric, seed, theirs)
    layouts["pixfly"], seconds["pixfly"] = pixfly(data, ours, metric, seed)
    if quick:
        return layouts, seconds
    layouts["pixfly, 50 principal components"], _ = pixfly(data, work / "pca", metric, seed, pca=50)
    layouts["pixfly, exact kNN without PCA"], _ = pixfly(data, work / "exact", metric, seed, pca=x.shape[1], knn="exact")
    layouts["pixfly, umap-learn's kNN"], _ = pixfly(data, work / "their-knn", metric, seed, neighbours=theirs)
    layouts["pixfly, umap-learn's graph"], _ = pixfly(data, work / "their-graph", metric, seed, graph=theirs)
    layouts["pixfly SGD, umap-learn's graph and start"], _ = pixfly(
        data, work / "their-start", metric, seed, graph=theirs, start=theirs / "start.npy")
    layouts["umap-learn SGD, pixfly's graph and start"] = umap_learn_sgd(x, metric, seed, ours)
    mixed = work / "their-graph-our-start"
    mixed.mkdir(exist_ok=True)
    for name in ("graph_rows.npy", "graph_cols.npy", "graph_vals.npy"):
        (mixed / name).write_bytes((theirs / name).read_bytes())
    (mixed / "start.npy").write_bytes((work / "their-graph" / "start.npy").read_bytes())
    layouts["umap-learn SGD, umap-learn's graph, pixfly's start"] = umap_learn_sgd(x, metric, seed, mixed)
    return layouts, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fashion-mnist", help="folder with Fashion-MNIST's 0.json … 9.json (raw pixels, euclidean)")
    parser.add_argument("--bundle", action="append", default=[], metavar="NAME=BUNDLE",
                        help="a bundle with network vectors and categories (cosine)")
    parser.add_argument("--seeds", default="42,7,1")
    parser.add_argument("--quick", action="store_true", help="only umap-learn and pixfly end to end")
    args = parser.parse_args()
    sets = [(name, "cosine", lambda b=bundle: bundle_vectors(b)) for name, bundle in (s.split("=", 1) for s in args.bundle)]
    if args.fashion_mnist:
        sets.append(("fashion-mnist", "euclidean", lambda: fashion_mnist(args.fashion_mnist)))
    seeds = [int(s) for s in args.seeds.split(",")]
    table = []
    for name, metric, load in sets:
        x, labels = load()
        scores, times = {}, {}
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                layouts, seconds = variants(x, metric, seed, Path(tmp), args.quick)
            for variant, layout in layouts.items():
                trust, accuracy = quality(x, layout, labels)
                scores.setdefault(variant, []).append((accuracy, trust))
                print(f"{name} seed {seed}: {variant}: 15-NN accuracy {accuracy:.3f}, trustworthiness {trust:.4f}", flush=True)
            for k, v in seconds.items():
                times.setdefault(k, []).append(v)
        base = np.mean(scores["umap-learn"], axis=0)
        # The best of the seeds: umap-learn's first fit also compiles its numba code.
        theirs, ours = min(times["umap-learn"]), min(times["pixfly"])
        print(f"{name} {x.shape[0]:,}×{x.shape[1]}: umap-learn {theirs:.2f} s, pixfly {ours:.2f} s "
              f"({theirs / ours:.2f}×; umap-learn single-threaded with a seed)")
        for variant, values in scores.items():
            accuracy, trust = np.mean(values, axis=0)
            table.append((name, x.shape, variant, accuracy, trust, accuracy - base[0], trust - base[1]))
    print(f"\nMean over seeds {args.seeds}:\n")
    print("| data | variant | 15-NN accuracy | Δ vs umap-learn | trustworthiness | Δ vs umap-learn |\n|---|---|---|---|---|---|")
    for name, shape, variant, accuracy, trust, da, dt in table:
        print(f"| {name} {shape[0]:,}×{shape[1]} | {variant} | {accuracy:.3f} | {da:+.3f} | {trust:.4f} | {dt:+.4f} |")


if __name__ == "__main__":
    main()
