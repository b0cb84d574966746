#!/usr/bin/env python3
"""Runs transformers (and peft) on a model folder and inputs, and compares with what
`repro parity` wrote for the same folder and inputs.

    repro parity --model M --inputs I.safetensors --output ours.safetensors [--adapter A] [--train paper:N]
    python3 tools/check_hf_parity.py --model M --inputs I.safetensors --ours ours.safetensors [--adapter A]

Prints the largest differences of logits, loss and gradients; exits 1 when they exceed the
project's tolerances (logits 1e-4 absolute, loss 1e-5 relative, gradients 1e-3 of their largest entry).
"""
import argparse
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import InstructBlipForConditionalGeneration


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapter")
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--ours", required=True)
    args = parser.parse_args()

    model = InstructBlipForConditionalGeneration.from_pretrained(args.model, attn_implementation="eager")
    if args.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, args.adapter, is_trainable=True)
    with safe_open(args.ours, "pt") as f:
        trains = f.metadata().get("trains", "all")
    names = {n: p for n, p in model.named_parameters()}
    plain = {n.removeprefix("base_model.model.").replace(".default.", ".").replace(".base_layer.", "."): n for n in names}
    if trains.startswith("paper:"):
        last = int(trains.split(":")[1])
        layers = model.config.text_config.num_hidden_layers
        for ours, theirs in plain.items():
            names[theirs].requires_grad_(
                "lora_" in ours or ours.startswith(("vision_model.", "qformer.", "language_projection.")) or ours == "query_tokens"
                or any(ours.startswith(f"language_model.model.layers.{i}.") for i in range(layers - last, layers)))
    model.eval()
    inputs = load_file(args.inputs)
    out = model(**inputs)
    ours = load_file(args.ours)
    failures = []
    logits = (out.logits.detach() - ours["logits"]).abs().max().item()
    print(f"logits: max |difference| {logits:.3g} over {out.logits.numel()} values")
    if logits > 1e-4:
        failures.append("logits")
    if out.loss is not None and "loss" in ours:
        loss = abs(out.loss.item() - ours["loss"].item()) / abs(out.loss.item())
        print(f"loss: transformers {out.loss.item():.7f}, repro {ours['loss'].item():.7f}, relative difference {loss:.3g}")
        if loss > 1e-5:
            failures.append("loss")
        out.loss.backward()
        worst = 0.0
        for ours_name, theirs_name in plain.items():
            p = names[theirs_name]
            if not p.requires_grad:
                continue
            if f"grad.{ours_name}" not in ours:
                failures.append(f"missing grad.{ours_name}")
                continue
            scale = max(p.grad.abs().max().item(), 1e-4)
            worst = max(worst, (p.grad - ours[f"grad.{ours_name}"]).abs().max().item() / scale)
        print(f"gradients: worst max |difference| / largest entry {worst:.3g}")
        if worst > 1e-3:
            failures.append("gradients")
    if failures:
        print("MISMATCH: " + ", ".join(failures))
        sys.exit(1)
    print("transformers and repro agree")


if __name__ == "__main__":
    main()
