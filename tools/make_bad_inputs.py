#!/usr/bin/env python3
"""Writes the bad-input corpus under Tests/BadInput: broken files of every kind repro reads, each
case beside a `.expected` file with the exact one-line error it must produce (the corpus folder of
its kind shown as DIR). The `.expected` files are written by hand and kept; this script only
(re)writes the inputs, so that binary cases are reproducible. Standard library only.

    python3 tools/make_bad_inputs.py
"""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "BadInput"


def write(path, content):
    path = ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


def safetensors(header, data=b""):
    raw = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(raw)) + raw + data


F32 = struct.pack("<4f", 1, 2, 3, 4)
GOOD = safetensors({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, F32)

# safetensors: the reader (checkpoints, Hugging Face folders, peft adapters).
write("safetensors/empty.safetensors", b"")
write("safetensors/huge-header.safetensors", struct.pack("<Q", 1 << 40) + b"{}")
write("safetensors/truncated.safetensors", GOOD[:-5])
write("safetensors/header-cut.safetensors", GOOD[:20])
write("safetensors/not-json.safetensors", struct.pack("<Q", 9) + b"{not json")
write("safetensors/unknown-dtype.safetensors", safetensors({"w": {"dtype": "Q4", "shape": [4], "data_offsets": [0, 16]}}, F32))
write("safetensors/wrong-size.safetensors", safetensors({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, F32))
write("safetensors/reversed-offsets.safetensors", safetensors({"w": {"dtype": "F32", "shape": [0], "data_offsets": [16, 0]}}, F32))
write("safetensors/overlap.safetensors", safetensors({
    "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
    "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, F32))
write("safetensors/negative-shape.safetensors", safetensors({"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, F32))

# tokenizer.json: the tokenizer saved with every model.
write("tokenizer/not-json.json", "merges: none")
write("tokenizer/other-format.json", json.dumps({"format": "sentencepiece", "special_tokens": ["<pad>", "<s>", "</s>", "<image>"], "merges": []}))
write("tokenizer/merge-from-the-future.json", json.dumps({"format": "repro byte-level BPE v1", "special_tokens": ["<pad>", "<s>", "</s>", "<image>"], "merges": [[4, 4], [4, 300]]}))

# data recipes (repro data --recipe, and [data] in study files).
write("recipe/unknown-key.json", json.dumps({"max_object": 3}))
write("recipe/wrong-type.json", json.dumps({"max_objects": "two"}))
write("recipe/too-many-objects.json", json.dumps({"min_objects": 3, "max_objects": 2}))
write("recipe/one-color.json", json.dumps({"colors": ["red"]}))
write("recipe/unknown-shape.json", json.dumps({"shapes": ["circle", "blob"]}))

# MME result folders (repro score mme): one subtask file each.
ROW = "a.png\tIs there a red circle?\tYes\tyes\na.png\tIs there a blue star?\tNo\tno\n"
write("mme/three-columns/count.txt", "a.png\tIs it?\tYes\n")
write("mme/maybe/color.txt", "a.png\tIs it red?\tMaybe\tyes\na.png\tIs it blue?\tNo\tno\n")
write("mme/lonely-question/existence.txt", ROW + "b.png\tIs there a square?\tYes\tyes\n")
write("mme/unknown-subtask/shapes.txt", ROW)
write("mme/empty/OCR.txt", "")

# study folders (repro run, status, ...): each a defaults file and one broken study.
DEFAULTS = 'abstract = true\n[model.text_config]\nhidden_size = 32\nnum_attention_heads = 2\n[data]\nvocabulary_size = 300\n'
STUDIES = {
    "unknown-key": '[train]\nlearning_rat = 1e-4\n',
    "wrong-type": '[train]\nmicro_batch = "two"\n',
    "heads": '[model.text_config]\nnum_attention_heads = 5\n',
    "lora-rank": '[lora]\nr = 48\nalpha = 96\n',
    "negative-rate": '[train]\nlearning_rate = -1e-4\n',
    "missing-init": 'init = "base"\n',
    "code-loss-on-finetune": '[train]\nscene_code_weight = 1.0\n',
    "syntax": '[train\nepochs = 3\n',
}
for name, body in STUDIES.items():
    write(f"studies/{name}/defaults.toml", DEFAULTS)
    write(f"studies/{name}/s.toml", 'extends = "defaults.toml"\n' + body)
write("studies/cycle/defaults.toml", DEFAULTS)
write("studies/cycle/a.toml", 'extends = "b.toml"\n')
write("studies/cycle/b.toml", 'extends = "a.toml"\n')
# folders that are not study folders: one without study files, and a file in a folder's place.
write("studies/no-study-files/README.txt", "a folder without study files\n")
write("studies/not-a-folder", "a file where the study folder should be\n")

# workspaces (repro run, status, show): a file in the workspace's place, a folder or a file that is
# not SQLite in the store's.
write("workspace/workspace-is-a-file", "a file where the workspace should be\n")
write("workspace/store-is-a-folder/results.sqlite/README.txt", "a folder where the store should be\n")
write("workspace/store-is-not-sqlite/results.sqlite", "not a database\n")

# paper.toml and reported.toml (repro figures, tables, check, report), over studies base, a and b.
PAPER = '''title = "T"
authors = "A"
[original]
model = "m"
images = "i"
finetune = "f"
benchmark = "b"
lora = "l"
training = "t"
hardware = "h"
[table1]
caption = "c"
base = "base"
rows = [{ study = "a", experiment = "1", label = "A" }, { study = "b", experiment = "2", label = "B" }]
[table2]
caption = "c"
rows = [{ id = "only", label = "Only", standard = "a", enhanced = "b" }]
[figure2]
caption = "c"
studies = ["a", "b"]
[[claims]]
id = "x"
rule = "improvement_size"
where = "4.5"
quote = "q"
required = false
at_least = 42
except = []
'''
REPORTED = "[table1.a]\ntest_loss = 5.6\n[table2.only]\nimprovement = 5\n"
PAPERS = {
    "reported-text-number": (PAPER, REPORTED.replace("5.6", '"5.6"')),
    "reported-unknown-row": (PAPER, REPORTED + "[table1.c]\ntest_loss = 1.0\n"),
    "reported-unknown-metric": (PAPER, REPORTED.replace("test_loss", "tests_loss")),
    "paper-unknown-study": (PAPER.replace('standard = "a"', 'standard = "exp99"'), REPORTED),
    "paper-broken-header": (PAPER.replace("[figure2]", "[figure2\n"), REPORTED),
}
for name, (paper, reported) in PAPERS.items():
    write(f"paper/{name}/paper.toml", paper)
    write(f"paper/{name}/reported.toml", reported)

# Hugging Face model folders (a study's model, `repro parity`), from the padded model fixture.
FIXTURE = ROOT.parent / "ModelTests" / "Fixtures" / "padded" / "model"
CONFIG = json.loads((FIXTURE / "config.json").read_text())
WEIGHTS = (FIXTURE / "model.safetensors").read_bytes()


def model_folder(name, config, weights):
    if config is not None:
        write(f"model/{name}/config.json", config if isinstance(config, str) else json.dumps(config, indent=1))
    if weights is not None:
        write(f"model/{name}/model.safetensors", weights)


def changed(section, key, value):
    config = json.loads(json.dumps(CONFIG))
    config[section][key] = value
    return config


model_folder("no-config", None, WEIGHTS)
model_folder("config-not-json", "{ hidden_size: 16 ", WEIGHTS)
model_folder("heads-do-not-divide", changed("text_config", "num_attention_heads", 3), WEIGHTS)
model_folder("no-weights", CONFIG, None)
model_folder("wider-than-weights", changed("text_config", "intermediate_size", CONFIG["text_config"]["intermediate_size"] * 2), WEIGHTS)
