#!/usr/bin/env python3
"""Writes tiny InstructBLIP (LLaMA) models made by `transformers` (and a `peft` LoRA adapter),
random inputs, and what `transformers` computes from them: logits, loss and gradients.
The Model tests load these folders with our code and compare.

    pip install "torch==2.13.0+cpu" transformers peft safetensors
    python3 tools/make_hf_fixtures.py

Each case folder under Tests/ModelTests/Fixtures/ holds:
  model/            save_pretrained output (config.json + model.safetensors)
  adapter/          peft save_pretrained output (the LoRA case only)
  inputs.safetensors     pixel_values, input_ids, attention_mask, qformer_input_ids,
                         qformer_attention_mask, labels (the names transformers uses)
  expected.safetensors   logits, loss, grad.<parameter name> for every trainable parameter;
                         its metadata records the package versions and what trains

Every random draw is seeded by the case's name, so the same package versions on the same kind of
CPU write the same values again (the bytes may still differ: safetensors writes its metadata, and
peft its target_modules, in hash order).
"""
import json
import platform
import shutil
import zlib
from pathlib import Path

import peft
import safetensors
import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import (InstructBlipConfig, InstructBlipForConditionalGeneration, InstructBlipQFormerConfig,
                          InstructBlipVisionConfig, LlamaConfig)

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ModelTests" / "Fixtures"
IMAGE_TOKEN = 3
VERSIONS = {
    "python": platform.python_version(),
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "peft": peft.__version__,
    "safetensors": safetensors.__version__,
    "made_by": "tools/make_hf_fixtures.py",
}


def tiny_config(cross_attention_frequency, hidden_act="gelu"):
    vision = InstructBlipVisionConfig(hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2,
                                      image_size=16, patch_size=4, hidden_act=hidden_act, layer_norm_eps=1e-6)
    qformer = InstructBlipQFormerConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                        intermediate_size=32, hidden_act=hidden_act, max_position_embeddings=32,
                                        cross_attention_frequency=cross_attention_frequency, encoder_hidden_size=24,
                                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    text = LlamaConfig(vocab_size=60, hidden_size=16, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2,
                       num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, pad_token_id=0,
                       bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    config = InstructBlipConfig(vision_config=vision.to_dict(), qformer_config=qformer.to_dict(),
                                text_config=text.to_dict(), num_query_tokens=4, image_token_index=IMAGE_TOKEN)
    config._attn_implementation = "eager"
    return config


def randomize(model, generator):
    """Every parameter nonzero (biases, query tokens, norms included), so each path is exercised."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            if "norm" in name.lower().split(".")[-2:][0]:
                p.copy_(1 + 0.1 * noise)
            else:
                p.copy_(0.2 * noise)


def make_inputs(config, generator, padded):
    b, q = 2, config.num_query_tokens
    prompt, response = 5, 4
    t = q + prompt + response
    input_ids = torch.randint(4, config.text_config.vocab_size, (b, t), generator=generator)
    input_ids[:, :q] = IMAGE_TOKEN
    attention_mask = torch.ones(b, t, dtype=torch.long)
    labels = input_ids.clone()
    labels[:, :q + prompt] = -100
    qformer_input_ids = torch.randint(1, config.qformer_config.vocab_size, (b, 6), generator=generator)
    qformer_attention_mask = torch.ones(b, 6, dtype=torch.long)
    if padded:
        # The second row is two tokens shorter in the text and the instruction.
        input_ids[1, -2:] = 0
        attention_mask[1, -2:] = 0
        labels[1, -2:] = -100
        qformer_input_ids[1, -2:] = 0
        qformer_attention_mask[1, -2:] = 0
    pixel_values = torch.randn(b, 3, 16, 16, generator=generator)
    return dict(pixel_values=pixel_values, input_ids=input_ids, attention_mask=attention_mask,
                qformer_input_ids=qformer_input_ids, qformer_attention_mask=qformer_attention_mask, labels=labels)


def our_name(peft_name):
    """peft's in-memory parameter name to the name in our models and in saved adapters."""
    return peft_name.removeprefix("base_model.model.").replace(".default.", ".").replace(".base_layer.", ".")


def write_case(name, cross_attention_frequency, padded, lora, hidden_act="gelu"):
    # Every draw comes from generators seeded by the case's name, so that a case is regenerated with
    # the same values: ours for the weights, inputs and both LoRA matrices, and torch's global one
    # (seeded too) for whatever the libraries initialise on their own before we overwrite it.
    seed = zlib.crc32(name.encode())
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = tiny_config(cross_attention_frequency, hidden_act)
    model = InstructBlipForConditionalGeneration(config)
    randomize(model, generator)
    model.save_pretrained(folder / "model", safe_serialization=True)
    trains = "all"
    if lora:
        # The paper's setting: LoRA on the LM's attention projections, the vision encoder,
        # the Q-Former and the last LM layer trained in full.
        lora_config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                 target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
        model = get_peft_model(model, lora_config)
        # peft draws lora_A from torch's global generator and zeroes lora_B: both are set from ours
        # (B nonzero, so that the adapter changes the output and its gradients are exercised).
        with torch.no_grad():
            for n, p in model.named_parameters():
                if "lora_A" in n or "lora_B" in n:
                    p.copy_(0.2 * torch.randn(p.shape, generator=generator))
        for n, p in model.named_parameters():
            plain = our_name(n)
            if (plain.startswith(("vision_model.", "qformer.", "language_projection.")) or plain == "query_tokens"
                    or plain.startswith("language_model.model.layers.1.")):
                p.requires_grad_(True)
        model.save_pretrained(folder / "adapter")
        (folder / "adapter" / "README.md").unlink(missing_ok=True)  # peft's model-card template
        trains = "paper:1"
    model.eval()
    inputs = make_inputs(config, generator, padded)
    out = model(**inputs)
    out.loss.backward()
    expected = {"logits": out.logits.detach(), "loss": out.loss.detach().reshape([1])}
    for n, p in model.named_parameters():
        if p.requires_grad:
            expected[f"grad.{our_name(n)}"] = p.grad.detach().clone()
    save_file({k: v.contiguous() for k, v in inputs.items()}, str(folder / "inputs.safetensors"))
    save_file({k: v.contiguous() for k, v in expected.items()}, str(folder / "expected.safetensors"),
              metadata={**VERSIONS, "trains": trains})
    print(f"{name}: loss {out.loss.item():.6f}, {len(expected) - 2} gradients, trains {trains}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write_case("cross_every_layer", cross_attention_frequency=1, padded=False, lora=False)
    write_case("padded", cross_attention_frequency=2, padded=True, lora=False, hidden_act="quick_gelu")
    write_case("lora_paper", cross_attention_frequency=2, padded=True, lora=True)
    (OUT / "VERSIONS.json").write_text(json.dumps(VERSIONS, indent=2) + "\n")


if __name__ == "__main__":
    main()
