#!/usr/bin/env python3
"""Writes a tiny CLIP scorer, its inputs and the CLIP score PyTorch computes from them, into
Tests/ModelTests/Fixtures/clip/. The Model tests load the weights into our ClipModel and compare.

    pip install "torch==2.13.0+cpu" transformers safetensors
    python3 tools/make_clip_fixtures.py

The score is Table 1's CLIP column: the mean over (image, text) pairs of the cosine between the
scorer's image embedding and its text embedding. The reference forward pass here is written from
the architecture, with independent implementations of each part:

- image tower: `transformers`' InstructBlipVisionModel (a pre-LN ViT with a class token and a
  final layer norm over every position); the embedding is the class token's final state through
  the visual projection (no bias), scaled to unit length;
- text tower: token plus position embeddings, then `torch.nn.TransformerEncoderLayer` layers
  (pre-LN, fused q/k/v input projection, exact GELU, no causal mask; padding keys are masked),
  a final layer norm, the mean of the final states over each text's tokens (padding left out),
  the text projection (no bias), scaled to unit length.

The case has three pairs whose texts have 5, 3 and 1 tokens (right-padded with id 0), so the
padding mask and the masked mean are exercised. Every weight is drawn from a seeded generator
(norm weights near 1), so the fixture is regenerated bit for bit by the same package versions.

Files:
  config.json            the scorer's sizes, named as our ClipConfig names them
  model.safetensors      the weights under our ClipModel's parameter names
  inputs.safetensors     pixel_values [3, 3, 8, 8], input_ids [3, 5], attention_mask [3, 5]
  expected.safetensors   image_embeds, text_embeds [3, 10], cosines [3], score [1] (all float64);
                         its metadata's "versions" records the package versions
"""
import json
import platform
from pathlib import Path

import safetensors
import torch
import transformers
from safetensors.torch import save_file
from transformers import InstructBlipVisionConfig, InstructBlipVisionModel

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ModelTests" / "Fixtures" / "clip"
SEED = 20260507
VERSIONS = {
    "python": platform.python_version(),
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "safetensors": safetensors.__version__,
    "made_by": "tools/make_clip_fixtures.py",
}

# The scorer's sizes (ClipConfig's fields).
VISION = dict(hiddenSize=16, intermediateSize=24, numHiddenLayers=2, numAttentionHeads=2, imageSize=8, patchSize=4,
              hiddenAct="gelu", layerNormEps=1e-6, qkvBias=True, initializerRange=0.02)
TEXT = dict(textHiddenSize=12, textIntermediateSize=20, textLayers=2, textHeads=2, vocabSize=30, maxPositions=8,
            projectionSize=10)
TEXT_EPS = 1e-5  # ClipModel's text layers and final norm
LENGTHS = [5, 3, 1]


def draw(shape, generator, norm):
    noise = torch.randn(shape, generator=generator, dtype=torch.float64)
    return (1 + 0.1 * noise) if norm else 0.3 * noise


def make_weights(generator):
    """Our parameter names and shapes, every tensor drawn in a fixed (sorted) order."""
    d, v, p = VISION["hiddenSize"], TEXT["textHiddenSize"], TEXT["projectionSize"]
    patches = (VISION["imageSize"] // VISION["patchSize"]) ** 2
    shapes = {
        "vision_model.embeddings.patch_embedding.weight": [d, 3, VISION["patchSize"], VISION["patchSize"]],
        "vision_model.embeddings.patch_embedding.bias": [d],
        "vision_model.embeddings.class_embedding": [1, 1, d],
        "vision_model.embeddings.position_embedding": [1, patches + 1, d],
        "vision_model.post_layernorm.weight": [d],
        "vision_model.post_layernorm.bias": [d],
        "text_model.embeddings.token_embedding.weight": [TEXT["vocabSize"], v],
        "text_model.embeddings.position_embedding.weight": [TEXT["maxPositions"], v],
        "text_model.final_layer_norm.weight": [v],
        "text_model.final_layer_norm.bias": [v],
        "visual_projection.weight": [p, d],
        "text_projection.weight": [p, v],
        "logit_scale": [1],
    }
    for tower, width, inner, layers in [("vision_model", d, VISION["intermediateSize"], VISION["numHiddenLayers"]),
                                        ("text_model", v, TEXT["textIntermediateSize"], TEXT["textLayers"])]:
        for i in range(layers):
            prefix = f"{tower}.encoder.layers.{i}"
            shapes.update({
                f"{prefix}.self_attn.qkv.weight": [3 * width, width], f"{prefix}.self_attn.qkv.bias": [3 * width],
                f"{prefix}.self_attn.projection.weight": [width, width], f"{prefix}.self_attn.projection.bias": [width],
                f"{prefix}.layer_norm1.weight": [width], f"{prefix}.layer_norm1.bias": [width],
                f"{prefix}.layer_norm2.weight": [width], f"{prefix}.layer_norm2.bias": [width],
                f"{prefix}.mlp.fc1.weight": [inner, width], f"{prefix}.mlp.fc1.bias": [inner],
                f"{prefix}.mlp.fc2.weight": [width, inner], f"{prefix}.mlp.fc2.bias": [width],
            })
    weights = {}
    for name in sorted(shapes):
        norm = ("layer_norm" in name or "layernorm" in name) and name.endswith(".weight")
        weights[name] = draw(shapes[name], generator, norm)
    weights["logit_scale"] = torch.tensor([1 / 0.07], dtype=torch.float64)  # unused by the score
    # What the Swift side loads is float32: the reference computes from the same rounded values.
    return {k: t.to(torch.float32).to(torch.float64) for k, t in weights.items()}


def image_embeddings(weights, pixel_values):
    config = InstructBlipVisionConfig(hidden_size=VISION["hiddenSize"], intermediate_size=VISION["intermediateSize"],
                                      num_hidden_layers=VISION["numHiddenLayers"],
                                      num_attention_heads=VISION["numAttentionHeads"], image_size=VISION["imageSize"],
                                      patch_size=VISION["patchSize"], hidden_act=VISION["hiddenAct"],
                                      layer_norm_eps=VISION["layerNormEps"], qkv_bias=True, attention_dropout=0.0)
    config._attn_implementation = "eager"
    tower = InstructBlipVisionModel(config).to(torch.float64).eval()
    # The same names as ours, except the attention bias: transformers keeps q_bias and v_bias (the
    # key has none) where ours is one fused q, k, v bias whose key part main() sets to zero.
    w, ours = VISION["hiddenSize"], {}
    for name in tower.state_dict():
        if name.endswith((".q_bias", ".v_bias")):
            fused = weights["vision_model." + name.rsplit(".", 1)[0] + ".qkv.bias"]
            assert torch.all(fused[w:2 * w] == 0)
            ours[name] = fused[:w] if name.endswith(".q_bias") else fused[2 * w:]
        else:
            ours[name] = weights["vision_model." + name]
    tower.load_state_dict(ours, strict=True)
    with torch.no_grad():
        states = tower(pixel_values=pixel_values).last_hidden_state  # [B, N+1, D], after the final layer norm
    pooled = states[:, 0, :]  # the class token (not pooler_output, which normalises it a second time)
    projected = pooled @ weights["visual_projection.weight"].T
    return projected / projected.norm(dim=-1, keepdim=True)


def text_embeddings(weights, input_ids, attention_mask):
    width = TEXT["textHiddenSize"]
    t = input_ids.shape[1]
    h = weights["text_model.embeddings.token_embedding.weight"][input_ids] \
        + weights["text_model.embeddings.position_embedding.weight"][:t].unsqueeze(0)
    for i in range(TEXT["textLayers"]):
        prefix = f"text_model.encoder.layers.{i}"
        layer = torch.nn.TransformerEncoderLayer(d_model=width, nhead=TEXT["textHeads"],
                                                 dim_feedforward=TEXT["textIntermediateSize"], dropout=0.0,
                                                 activation="gelu", layer_norm_eps=TEXT_EPS, batch_first=True,
                                                 norm_first=True, dtype=torch.float64)
        layer.load_state_dict({
            "self_attn.in_proj_weight": weights[f"{prefix}.self_attn.qkv.weight"],
            "self_attn.in_proj_bias": weights[f"{prefix}.self_attn.qkv.bias"],
            "self_attn.out_proj.weight": weights[f"{prefix}.self_attn.projection.weight"],
            "self_attn.out_proj.bias": weights[f"{prefix}.self_attn.projection.bias"],
            "linear1.weight": weights[f"{prefix}.mlp.fc1.weight"], "linear1.bias": weights[f"{prefix}.mlp.fc1.bias"],
            "linear2.weight": weights[f"{prefix}.mlp.fc2.weight"], "linear2.bias": weights[f"{prefix}.mlp.fc2.bias"],
            "norm1.weight": weights[f"{prefix}.layer_norm1.weight"], "norm1.bias": weights[f"{prefix}.layer_norm1.bias"],
            "norm2.weight": weights[f"{prefix}.layer_norm2.weight"], "norm2.bias": weights[f"{prefix}.layer_norm2.bias"],
        })
        # Training mode with no dropout: the eval-mode fast path would replace padded positions.
        layer.train()
        h = layer(h, src_key_padding_mask=attention_mask == 0)
    h = torch.nn.functional.layer_norm(h, (width,), weights["text_model.final_layer_norm.weight"],
                                       weights["text_model.final_layer_norm.bias"], eps=TEXT_EPS)
    mask = attention_mask.to(torch.float64).unsqueeze(-1)
    pooled = (h * mask).sum(dim=1) / mask.sum(dim=1)
    projected = pooled @ weights["text_projection.weight"].T
    return projected / projected.norm(dim=-1, keepdim=True)


def main():
    generator = torch.Generator().manual_seed(SEED)
    weights = make_weights(generator)
    # transformers' ViT attention has no key bias (it would cancel in the softmax anyway): zero
    # the key part of our fused bias so that both sides hold the same weights.
    w = VISION["hiddenSize"]
    for i in range(VISION["numHiddenLayers"]):
        weights[f"vision_model.encoder.layers.{i}.self_attn.qkv.bias"][w:2 * w] = 0
    b, t = len(LENGTHS), max(LENGTHS)
    pixel_values = torch.randn(b, 3, VISION["imageSize"], VISION["imageSize"], generator=generator,
                               dtype=torch.float64).to(torch.float32).to(torch.float64)
    input_ids = torch.randint(1, TEXT["vocabSize"], (b, t), generator=generator)
    attention_mask = torch.zeros(b, t, dtype=torch.long)
    for row, length in enumerate(LENGTHS):
        attention_mask[row, :length] = 1
        input_ids[row, length:] = 0
    with torch.no_grad():
        images = image_embeddings(weights, pixel_values)
        texts = text_embeddings(weights, input_ids, attention_mask)
    cosines = (images * texts).sum(dim=-1)
    score = cosines.mean()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "config.json").write_text(json.dumps({"vision": VISION, **TEXT}, indent=2) + "\n")
    save_file({k: v.to(torch.float32).contiguous() for k, v in weights.items()}, str(OUT / "model.safetensors"))
    save_file({"pixel_values": pixel_values.to(torch.float32).contiguous(), "input_ids": input_ids.contiguous(),
               "attention_mask": attention_mask.contiguous()}, str(OUT / "inputs.safetensors"))
    save_file({"image_embeds": images.contiguous(), "text_embeds": texts.contiguous(), "cosines": cosines.contiguous(),
               "score": score.reshape([1]).contiguous()}, str(OUT / "expected.safetensors"),
              # One key: safetensors writes its metadata in hash order, which would change the bytes.
              metadata={"versions": json.dumps(VERSIONS, sort_keys=True)})
    print(f"clip: score {score.item():.9f}, cosines {', '.join(f'{c:.6f}' for c in cosines.tolist())}")


if __name__ == "__main__":
    main()
