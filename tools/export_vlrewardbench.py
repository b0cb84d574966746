#!/usr/bin/env python3
"""Exports VL-RewardBench from the Hub's parquet file(s) to the folder layout `repro` reads:

    <output>/data.jsonl        one JSON object per row: id, query, response (2 strings),
                               human_ranking (2 ints), query_source, image (a relative path)
    <output>/images/*.png      every image converted to RGB PNG (transparency shown over white)

    pip install pyarrow pillow
    python3 tools/export_vlrewardbench.py test-00000-of-00001.parquet data/vlrewardbench
    repro data stats --vlrewardbench data/vlrewardbench

The row count is whatever the parquet holds (the current release has 1,247 rows). Nothing here is
needed to reproduce the paper with the project's own rendered data.
"""
import argparse
import io
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image

FIELDS = ["id", "query", "response", "human_ranking", "query_source", "image"]


def to_png(image_bytes, path):
    """Writes the image as an RGB PNG; transparent pixels over white, as repro's loader shows them."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    Image.alpha_composite(white, image).convert("RGB").save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parquet", nargs="+", help="the dataset's parquet file(s), e.g. test-00000-of-00001.parquet")
    parser.add_argument("output", help="the folder to write data.jsonl and images/ into")
    args = parser.parse_args()

    output = Path(args.output)
    (output / "images").mkdir(parents=True, exist_ok=True)
    rows = 0
    with open(output / "data.jsonl", "w", encoding="utf-8") as jsonl:
        for parquet in args.parquet:
            for record in pq.read_table(parquet, columns=FIELDS).to_pylist():
                # The row number keeps file names unique even when two ids differ only in unsafe characters.
                name = f"{rows:05d}-{re.sub(r'[^A-Za-z0-9._-]', '_', str(record['id']))}.png"
                to_png(record["image"]["bytes"], output / "images" / name)
                jsonl.write(json.dumps({
                    "id": str(record["id"]), "query": record["query"], "response": list(record["response"]),
                    "human_ranking": [int(r) for r in record["human_ranking"]],
                    "query_source": record["query_source"], "image": f"images/{name}",
                }, ensure_ascii=False) + "\n")
                rows += 1
    print(f"wrote {rows} rows to {output / 'data.jsonl'}")


if __name__ == "__main__":
    main()
