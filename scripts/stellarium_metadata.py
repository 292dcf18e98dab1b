#!/usr/bin/env python3
"""Write pixfly's metadata CSV for Stellarium's images (stdlib only).

Usage: stellarium_metadata.py FOLDER > metadata.csv, where FOLDER holds nebulae/ and skycultures/.
Nebula photographs get their credits from textures.json; constellation artworks get their sky
culture as category and their constellation's name as label.
"""
import configparser
import csv
import json
import re
import sys
from pathlib import Path

root = Path(sys.argv[1])
rows = []


def nebula_tiles(node):
    for tile in node.get("subTiles", []):
        yield tile
        yield from nebula_tiles(tile)


for textures in sorted(root.glob("nebulae/*/textures.json")):
    folder = textures.parent
    # Stellarium's JSON writes numbers like -.97; make them valid JSON first.
    text = re.sub(r"([\[,:\s])(-?)\.(\d)", r"\1\g<2>0.\3", textures.read_text(encoding="utf-8"))
    for tile in nebula_tiles(json.loads(text)):
        image = folder / tile.get("imageUrl", "")
        if not image.is_file():
            continue
        credits = {k.lower(): v for k, v in tile.get("imageCredits", {}).items()}
        rows.append({
            "filename": image.relative_to(root).as_posix(),
            "category": "Deep-sky photograph",
            "label": image.stem,
            "description": f"Image credit: {credits['short']}" if "short" in credits else "",
            "permalink": credits.get("infourl", ""),
            "tags": "photograph|deep sky",
        })

for culture in sorted(p for p in (root / "skycultures").iterdir() if p.is_dir()):
    info = configparser.ConfigParser(interpolation=None, strict=False)
    info.read(culture / "info.ini", encoding="utf-8-sig")
    name = info.get("info", "name", fallback=culture.name).strip()
    author = info.get("info", "author", fallback="").strip()
    names = {}
    names_file = culture / "constellation_names.eng.fab"
    if names_file.is_file():
        for line in names_file.read_text(encoding="utf-8", errors="replace").splitlines():
            m = re.match(r'\s*(\S+)\s+"([^"]*)"', line)
            if m:
                names[m.group(1)] = m.group(2)
    labels = {}
    art_file = culture / "constellationsart.fab"
    if art_file.is_file():
        for line in art_file.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and not line.lstrip().startswith("#"):
                labels[Path(parts[1]).name] = names.get(parts[0], parts[0])
    for image in sorted(culture.rglob("*")):
        if image.suffix.lower() not in (".png", ".jpg", ".jpeg") or not image.is_file():
            continue
        label = labels.get(image.name, "")
        rows.append({
            "filename": image.relative_to(root).as_posix(),
            "category": name,
            "label": label,
            "description": f"{label or image.stem}, {name} sky culture" + (f" ({author})" if author else ""),
            "permalink": "",
            "tags": "constellation art" if label else "sky culture",
        })

writer = csv.DictWriter(sys.stdout, fieldnames=["filename", "category", "label", "description", "permalink", "tags"])
writer.writeheader()
writer.writerows(rows)
