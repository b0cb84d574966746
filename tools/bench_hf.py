#!/usr/bin/env python3
"""The reference for `repro bench train`: Hugging Face transformers + peft on PyTorch (CPU)
training the identical configuration, timed the same way. `repro bench train --reference`
calls it with the model's config.json and prints both; it can also run alone:

    pip install "torch==2.13.0+cpu" transformers peft
    python3 tools/bench_hf.py --config config.json [--batch 2 --prompt 24 --response 40 ...]
    python3 tools/bench_hf.py --config config.json --generate [--batches 1,8 --new-tokens 32 ...]

Prints one JSON object: for training samples_per_second, step_ms, peak_rss_mb; for --generate
tokens_per_second per batch size (`repro bench generate --reference`); and the versions used.
"""
import argparse
import json
import platform
import time

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import InstructBlipConfig, InstructBlipForConditionalGeneration


def peak_rss_mb():
    """VmHWM of this process. (getrusage's ru_maxrss would include the memory of the process
    that started us: Linux keeps it across exec.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="an InstructBLIP config.json (repro writes the scale model's)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--accumulation", type=int, default=16, help="micro-batches per optimizer step (the Trainer's loop)")
    p.add_argument("--prompt", type=int, default=24)
    p.add_argument("--response", type=int, default=40)
    p.add_argument("--instruction", type=int, default=24)
    p.add_argument("--lora-rank", type=int, default=32)
    p.add_argument("--lora-alpha", type=float, default=64)
    p.add_argument("--lora-dropout", type=float, default=0.05)
    p.add_argument("--lora-targets", default="q_proj,k_proj,v_proj,o_proj")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--last-layers", type=int, default=4)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--generate", action="store_true", help="time greedy decoding instead of training")
    p.add_argument("--batches", default="1,8", help="with --generate: batch sizes, comma-separated")
    p.add_argument("--new-tokens", type=int, default=32, help="with --generate: tokens decoded per request")
    p.add_argument("--threads", type=int, default=0, help="PyTorch's threads (default: its own choice)")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    config = InstructBlipConfig.from_json_file(args.config)
    model = InstructBlipForConditionalGeneration(config)
    if args.generate:
        print(json.dumps({"tokens_per_second": time_generation(model, config, args), "versions": versions()}))
        return
    model = get_peft_model(model, LoraConfig(r=args.lora_rank, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                                             target_modules=args.lora_targets.split(",")))
    layers = config.text_config.num_hidden_layers
    trained_layers = tuple(f"language_model.model.layers.{i}." for i in range(layers - args.last_layers, layers))
    for name, param in model.named_parameters():
        plain = name.removeprefix("base_model.model.").replace(".base_layer.", ".")
        if plain.startswith(("vision_model.", "qformer.", "language_projection.")) or plain == "query_tokens" \
                or plain.startswith(trained_layers) or "lora_" in plain:
            param.requires_grad_(True)
    model.train()
    trainable = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=args.weight_decay)

    b, q = args.batch, config.num_query_tokens
    vocab = config.text_config.vocab_size
    text = torch.randint(4, vocab, (b, args.prompt + args.response))
    input_ids = torch.cat([torch.full((b, q), config.image_token_index), text], dim=1)
    labels = input_ids.clone()
    labels[:, :q + args.prompt] = -100
    size = config.vision_config.image_size
    batch = dict(pixel_values=torch.randn(b, 3, size, size), input_ids=input_ids,
                 attention_mask=torch.ones_like(input_ids),
                 qformer_input_ids=torch.randint(1, config.qformer_config.vocab_size, (b, args.instruction)),
                 qformer_attention_mask=torch.ones(b, args.instruction, dtype=torch.long), labels=labels)

    def step():
        # Gradient accumulation as the Trainer does it: each micro-batch's loss / accumulation.
        for _ in range(args.accumulation):
            (model(**batch).loss / args.accumulation).backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad()

    for _ in range(2):
        step()
    steps, elapsed = time_repeatedly(step, args.seconds)
    print(json.dumps({
        "samples_per_second": steps * b * args.accumulation / elapsed,
        "step_ms": elapsed / steps * 1e3,
        "peak_rss_mb": peak_rss_mb(),
        "threads": torch.get_num_threads(),
        "versions": versions(),
    }))


def time_repeatedly(body, seconds):
    """Calls body until `seconds` have passed (at least once); returns the count and the time taken."""
    count, start = 0, time.perf_counter()
    while True:
        body()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count, elapsed


def versions():
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "peft": peft.__version__}


def time_generation(model, config, args):
    """New tokens per second of greedy decoding (KV cache), every row decoding exactly --new-tokens."""
    model.eval()
    q, size = config.num_query_tokens, config.vision_config.image_size
    rates = {}
    for b in (int(n) for n in args.batches.split(",")):
        text = torch.randint(4, config.text_config.vocab_size, (b, args.prompt))
        input_ids = torch.cat([torch.full((b, q), config.image_token_index), text], dim=1)
        inputs = dict(pixel_values=torch.randn(b, 3, size, size), input_ids=input_ids,
                      attention_mask=torch.ones_like(input_ids),
                      qformer_input_ids=torch.randint(1, config.qformer_config.vocab_size, (b, args.instruction)),
                      qformer_attention_mask=torch.ones(b, args.instruction, dtype=torch.long))

        def call():
            with torch.no_grad():
                model.generate(**inputs, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                               do_sample=False, num_beams=1)

        call()
        calls, elapsed = time_repeatedly(call, args.seconds)
        rates[str(b)] = calls * b * args.new_tokens / elapsed
    return rates


if __name__ == "__main__":
    main()
