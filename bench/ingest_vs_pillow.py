#!/usr/bin/env python3
"""Ingest + atlas throughput: pixfly against Pillow doing the same job, in one run.

Usage: ingest_vs_pillow.py PIXFLY_BINARY COLLECTION_FOLDER [--repeat N]

The Pillow reference does what `pixfly build` does for each file: read and hash it, decode
(JPEG via Image.draft at reduced scale), apply EXIF orientation, composite alpha on grey, make a
256 px thumbnail (saved as JPEG) and a 64 px cell, and paste the cells into 4096 x 4096 atlases
saved as JPEG. It runs in one process and with a multiprocessing pool of one worker per core.
Each contender runs from a cold cache (a fresh output folder) `--repeat` times; the best run
counts. Reported: images/s, and pixfly's speed as a ratio of each reference's.
"""
import argparse
import hashlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from pillow_common import upright_rgb

EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp"}
THUMB, CELL, ATLAS = 256, 64, 4096


def find_images(root):
    return sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())


def process(args):
    """One file: returns (hash, cell bytes, cell size) or None when it can't be read."""
    path, out = args
    data = path.read_bytes()
    digest = hashlib.blake2b(data).hexdigest()
    try:
        im = Image.open(path)
        im.draft("RGB", (THUMB, THUMB))
        im = upright_rgb(im)
        im.thumbnail((THUMB, THUMB), Image.BICUBIC)
        im.save(out / f"{digest[:32]}.jpg", quality=85)
        cell = im.copy()
        cell.thumbnail((CELL, CELL), Image.BICUBIC)
        return digest, cell.tobytes(), cell.size
    except Exception:
        return None


def pillow_build(files, out, workers):
    out.mkdir(parents=True)
    jobs = [(f, out) for f in files]
    if workers == 1:
        results = list(map(process, jobs))
    else:
        with multiprocessing.Pool(workers) as pool:
            results = pool.map(process, jobs, chunksize=8)
    seen, cells = set(), []
    for r in results:
        if r is not None and r[0] not in seen:
            seen.add(r[0])
            cells.append(r)
    per_row = ATLAS // CELL
    per_atlas = per_row * per_row
    for a in range(0, len(cells), per_atlas):
        chunk = cells[a:a + per_atlas]
        rows = (len(chunk) + per_row - 1) // per_row
        atlas = Image.new("RGB", (min(len(chunk), per_row) * CELL, rows * CELL))
        for i, (_, pixels, (w, h)) in enumerate(chunk):
            x, y = (i % per_row) * CELL, (i // per_row) * CELL
            atlas.paste(Image.frombytes("RGB", (w, h), pixels), (x + (CELL - w) // 2, y + (CELL - h) // 2))
        atlas.save(out / f"atlas-{a // per_atlas:03}.jpg", quality=90)
    return len(cells)


def pixfly_build(binary, collection, out):
    inputs = [str(collection / d) for d in ("nebulae", "skycultures") if (collection / d).is_dir()] or [str(collection)]
    # Only ingest + atlases: the network and layouts have their own benchmarks.
    subprocess.run([binary, "build", *inputs, "-o", str(out), "--no-embed"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def best_of(repeat, run, scratch):
    """Best wall time of `repeat` cold runs. Outputs are kept until the end: deleting a tree of
    files just before a run makes the kernel's inode allocation slower for whoever runs next."""
    times = []
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(dir=scratch)) / "out"
        start = time.perf_counter()
        run(out)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pixfly")
    parser.add_argument("collection", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = find_images(args.collection)
    n = len(files)
    cores = os.cpu_count() or 1
    print(f"{n} files, {sum(f.stat().st_size for f in files) / 1e6:.0f} MB, {cores} cores, Pillow {Image.__version__}")

    # Outputs go to memory where there is a tmpfs: on a disk that has just had thousands of files
    # deleted (the previous run's outputs), ext4 searches longer for free inodes, which made
    # whoever ran first slower at each run (pixfly: 1.83 s, then 1.93, 2.06, 2.15, 2.22 s in five
    # runs in a row; `perf`: ext4_create -> recently_deleted).
    memory = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=memory if memory.is_dir() else None) as scratch:
        results = {
            "pixfly": best_of(args.repeat, lambda out: pixfly_build(args.pixfly, args.collection, out), scratch),
            "Pillow, 1 process": best_of(args.repeat, lambda out: pillow_build(files, out, 1), scratch),
            f"Pillow, {cores} processes": best_of(args.repeat, lambda out: pillow_build(files, out, cores), scratch),
        }
    ours = results["pixfly"]
    print(f"{'':24} {'seconds':>8} {'images/s':>9} {'pixfly is':>10}")
    for name, seconds in results.items():
        ratio = "" if name == "pixfly" else f"{seconds / ours:.2f}x"
        print(f"{name:24} {seconds:8.2f} {n / seconds:9.0f} {ratio:>10}")


if __name__ == "__main__":
    sys.exit(main())
