#!/usr/bin/env python3
"""A control in PyTorch for the language stage: can a language model of the scale model's shapes
learn to say whether a word is among the words it reads at the image positions, or which word
follows a given one? The scene code is replaced by 5-15 random words (one per position, as input
embeddings in front of BOS and the question), so no table of attribute values can be memorised:
only matching equal words solves it. The language stage's runs in our engine stayed at chance on
`presence`; this shows whether transformers' LLaMA of the same size does any better.

    pip install "torch==2.13.0+cpu" transformers
    python3 tools/presence_probe.py [--task presence|short|next] [--layers 6 --heads 4 --steps 1425] [--marker]

Prints the training loss (mean over the answer token and EOS) every 100 steps, then one JSON line
with the last loss, the loss of guessing (presence: ln 2 / 2) and the versions used.
"""
import argparse
import json
import math
import platform
import random

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

VOCABULARY, QUERIES, WIDTH = 1000, 16, 256
BOS, EOS, NEWLINE = 1, 2, 10
FUNCTION = {w: 100 + i for i, w in enumerate(
    "is there a in the image ? does contain can you see please answer yes or no . what comes after".split())}
WORDS = list(range(500, 597))  # as many as the tokenizer's whole words (97)
TEMPLATES = [["is", "there", "a", "W", "in", "the", "image", "?"], ["does", "the", "image", "contain", "a", "W", "?"],
             ["can", "you", "see", "a", "W", "in", "the", "image", "?"]]
SUFFIX = ["please", "answer", "yes", "or", "no", "."]


def row(task, rng):
    """One example: the code's words, the question's tokens and the answer's tokens (with EOS)."""
    n = rng.randint(5, 15)
    words = rng.sample(WORDS, n + 1)
    code = words[:n]
    if task == "next":
        j = rng.randrange(n - 1)
        question = [FUNCTION[t] for t in ["what", "comes", "after"]] + [code[j]] + [FUNCTION[t] for t in ["in", "the", "image", "?"]]
        return code, question, [code[j + 1], EOS]
    present = rng.random() < 0.5
    asked = rng.choice(code) if present else words[n]
    if task == "short":
        question = [asked]
    else:
        question = [asked if t == "W" else FUNCTION[t] for t in rng.choice(TEMPLATES)]
        if rng.random() < 0.5:
            question += [FUNCTION[t] for t in SUFFIX]
    return code, question, [FUNCTION["yes" if present else "no"], EOS]


def batch(rows, embed, marker):
    """Input embeddings [B, L, D] (code, then BOS, question, newline, answer), labels at the
    positions that predict the answer, and the attention mask."""
    length = max(QUERIES + 2 + len(q) + len(a) for _, q, a in rows)
    inputs = torch.zeros(len(rows), length, WIDTH)
    labels = torch.full((len(rows), length), -100)
    mask = torch.zeros(len(rows), length, dtype=torch.long)
    for i, (code, question, answer) in enumerate(rows):
        prefix = torch.zeros(QUERIES, WIDTH)
        prefix[:len(code)] = embed(torch.tensor(code)) + (marker if marker is not None else 0)
        sequence = torch.cat([prefix, embed(torch.tensor([BOS] + question + [NEWLINE] + answer))])
        inputs[i, :len(sequence)] = sequence
        mask[i, :len(sequence)] = 1
        first = QUERIES + 1 + len(question)  # the newline, which predicts the answer's first token
        labels[i, first:first + len(answer)] = torch.tensor(answer)
    return inputs, labels, mask


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=["presence", "short", "next"], default="presence")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1425)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--marker", action="store_true", help="add a learned vector to every code position")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = random.Random(args.seed)
    config = LlamaConfig(vocab_size=VOCABULARY, hidden_size=WIDTH, intermediate_size=704, num_hidden_layers=args.layers,
                         num_attention_heads=args.heads, max_position_embeddings=256, rms_norm_eps=1e-6,
                         rope_theta=10000.0, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    marker = torch.nn.Parameter(torch.randn(WIDTH) * 0.02) if args.marker else None
    optimizer = torch.optim.AdamW(list(model.parameters()) + ([marker] if marker is not None else []),
                                  lr=args.lr, weight_decay=0.01)
    warmup = max(1, int(0.05 * args.steps))  # the language stage's schedule: 5% warm-up, then cosine
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: (s + 1) / warmup if s < warmup
                                                 else 0.5 * (1 + math.cos(math.pi * (s - warmup) / (args.steps - warmup))))
    embed = model.get_input_embeddings()
    loss = None
    for step in range(1, args.steps + 1):
        inputs, labels, mask = batch([row(args.task, rng) for _ in range(args.batch)], embed, marker)
        logits = model(inputs_embeds=inputs, attention_mask=mask).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCABULARY), labels.reshape(-1), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.3f}", flush=True)
    guess = math.log(2) / 2 if args.task != "next" else None
    print(json.dumps({"task": args.task, "layers": args.layers, "heads": args.heads, "steps": args.steps,
                      "last_loss": round(loss.item(), 4), "guessing_loss": guess, "torch": torch.__version__,
                      "transformers": transformers.__version__, "python": platform.python_version()}))


if __name__ == "__main__":
    main()
