#!/usr/bin/env python3
"""Writes the small VL-RewardBench exports the Data tests load, into Tests/DataTests/Fixtures/:

    vlrewardbench/       three good rows; PNGs in RGB, RGBA and grayscale, of sizes other than 64x64
    vlrewardbench-bad/   one good row, then one row for each kind of problem the loader must name

    pip install pillow
    python3 tools/make_data_fixtures.py

The images are flat colour blocks so that the tests can check the pixels after resizing. The tests
read the files only; they never need Python.
"""
import json
from pathlib import Path

from PIL import Image

FIXTURES = Path(__file__).resolve().parent.parent / "Tests" / "DataTests" / "Fixtures"


def row(id, query, responses, ranking, source, image):
    return json.dumps({"id": id, "query": query, "response": responses, "human_ranking": ranking,
                       "query_source": source, "image": image, "models": ["a", "b"]})


def good_fixture():
    folder = FIXTURES / "vlrewardbench"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    # Left half red, right half blue, 96x48: resizing to a square must stretch, not crop.
    halves = Image.new("RGB", (96, 48), (255, 0, 0))
    halves.paste((0, 0, 255), (48, 0, 96, 48))
    halves.save(folder / "images" / "halves.png")
    # Top half transparent (must come out white), bottom half opaque green.
    alpha = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    alpha.paste((0, 200, 0, 255), (0, 20, 40, 40))
    alpha.save(folder / "images" / "alpha.png")
    # 8-bit grayscale, a mode Cairo converts on reading.
    Image.new("L", (50, 80), 128).save(folder / "images" / "gray.png")
    rows = [
        row("wv-1", "What colors are in the image?", ["Red on the left and blue on the right.", "Only green."],
            [0, 1], "wildvision", "images/halves.png"),
        row("povid-7", "Why is the cat green?", ["The cat is green because it is wet.", "There is no cat; the image shows a green band."],
            [1, 0], "povid", "images/alpha.png"),
        row("mv-3", "What is the gray level?", ["It is 128 out of 255.", "It is black."], [0, 1], "MathVerse", "images/gray.png"),
    ]
    (folder / "data.jsonl").write_text("\n".join(rows) + "\n")


def bad_fixture():
    folder = FIXTURES / "vlrewardbench-bad"
    (folder / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), (10, 20, 30)).save(folder / "images" / "good.png")
    Image.new("RGB", (16, 16), (200, 100, 0)).save(folder / "images" / "photo.jpg", quality=90)
    (folder / "images" / "notes.png").write_text("not an image\n")
    png = (folder / "images" / "good.png").read_bytes()
    (folder / "images" / "truncated.png").write_bytes(png[:40])
    good = dict(id="ok", query="q", response=["a", "b"], human_ranking=[0, 1], query_source="rlhf-v", image="images/good.png")

    def variant(**changes):
        fields = {**good, **changes}
        return json.dumps({k: v for k, v in fields.items() if v is not None})

    lines = [
        variant(),                                              # 1: good
        '{"id": "broken", "query": ',                           # 2: not JSON
        variant(id="no-ranking", human_ranking=None),           # 3: missing field
        variant(id="one-response", response=["only one"]),      # 4: wrong type
        variant(id="tie", human_ranking=[1, 2]),                # 5: no 0 in the ranking
        variant(id="gone", image="images/missing.png"),         # 6: missing image
        variant(id="jpeg", image="images/photo.jpg"),           # 7: a JPEG
        variant(id="text", image="images/notes.png"),           # 8: not an image at all
        variant(id="cut", image="images/truncated.png"),        # 9: a PNG cut short
        variant(id="where", query_source="somewhere"),          # 10: unknown source
        variant(id="bools", human_ranking=[True, False]),       # 11: booleans are not integers
    ]
    (folder / "data.jsonl").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    good_fixture()
    bad_fixture()
    print(f"wrote {FIXTURES / 'vlrewardbench'} and {FIXTURES / 'vlrewardbench-bad'}")
