#!/usr/bin/env python3
"""Writes the reference values the Engine tests compare against, computed by PyTorch,
`transformers` and `safetensors`, into Tests/EngineTests/Fixtures/.

    pip install "torch==2.13.0+cpu" transformers safetensors
    python3 tools/make_engine_fixtures.py

Each file records the package versions that made it in its safetensors metadata. The tests read
these files only; they never need Python.
"""
import platform
import sys
from pathlib import Path

import safetensors
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

OUT = Path(__file__).resolve().parent.parent / "Tests" / "EngineTests" / "Fixtures"
VERSIONS = {
    "python": platform.python_version(),
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "safetensors": safetensors.__version__,
    "made_by": "tools/make_engine_fixtures.py",
}


def grads_of(output, inputs, generator):
    """Gradients of sum(output * probe) for a fixed random probe; returns (probe, grads)."""
    probe = torch.randn(output.shape, generator=generator)
    (output * probe).sum().backward()
    return probe, [t.grad.detach().clone() for t in inputs]


def leaf(shape, generator, scale=1.0):
    return (torch.randn(shape, generator=generator) * scale).requires_grad_(True)


def ops_fixture():
    """Forward outputs and input gradients of the ops whose semantics must match PyTorch's."""
    g = torch.Generator().manual_seed(1234)
    t = {}

    def record(prefix, inputs, output, extra=None):
        probe, grads = grads_of(output, list(inputs.values()), g)
        for name, value in inputs.items():
            t[f"{prefix}.{name}"] = value.detach().clone()
        for name, grad in zip(inputs, grads):
            t[f"{prefix}.grad.{name}"] = grad
        t[f"{prefix}.probe"] = probe
        t[f"{prefix}.output"] = output.detach().clone()
        for name, value in (extra or {}).items():
            t[f"{prefix}.{name}"] = value

    # LayerNorm, eps 1e-6 as the ViT uses
    x, w, b = leaf([3, 5, 8], g), leaf([8], g), leaf([8], g)
    record("layer_norm", {"x": x, "weight": w, "bias": b}, F.layer_norm(x, [8], w, b, eps=1e-6))

    # RMSNorm as LlamaRMSNorm computes it
    x, w = leaf([3, 5, 8], g), leaf([8], g)
    variance = x.pow(2).mean(-1, keepdim=True)
    record("rms_norm", {"x": x, "weight": w}, w * (x * torch.rsqrt(variance + 1e-6)))

    # Activations on a grid that avoids ReLU's kink
    for name, fn in [
        ("gelu", lambda v: F.gelu(v)),
        ("gelu_tanh", lambda v: F.gelu(v, approximate="tanh")),
        ("quick_gelu", lambda v: v * torch.sigmoid(1.702 * v)),
        ("relu", F.relu),
        ("silu", F.silu),
        ("tanh", torch.tanh),
    ]:
        x = (torch.linspace(-4, 4, 40) + 0.01).requires_grad_(True)
        record(f"activation.{name}", {"x": x}, fn(x))

    # SwiGLU: silu(gate) * up
    gate, up = leaf([4, 6], g), leaf([4, 6], g)
    record("swiglu", {"gate": gate, "up": up}, F.silu(gate) * up)

    # Softmax with an additive mask that broadcasts over the middle dimension
    x = leaf([2, 3, 5], g)
    mask = torch.zeros(2, 1, 5)
    mask[0, 0, 1] = float("-inf")
    mask[1, 0, 3:] = float("-inf")
    record("softmax", {"x": x}, torch.softmax(x + mask, dim=-1), {"mask": mask})

    # Attention, q/k/v in [B, T, H, D]: causal with a KV-cache offset (Tq=4, Tk=6) and key padding
    q, k, v = leaf([2, 4, 2, 8], g), leaf([2, 6, 2, 8], g), leaf([2, 6, 2, 8], g)
    key_mask = torch.ones(2, 6)
    key_mask[1, :2] = 0  # left padding of the second sequence
    allowed = (torch.arange(6)[None, :] <= torch.arange(4)[:, None] + 2)[None, None] & (key_mask[:, None, None, :] > 0)
    out = F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=allowed).transpose(1, 2)
    record("attention_causal", {"q": q, "k": k, "v": v}, out, {"key_mask": key_mask})

    # Cross-attention: no mask, Tq != Tk
    q, k, v = leaf([2, 3, 2, 4], g), leaf([2, 5, 2, 4], g), leaf([2, 5, 2, 4], g)
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
    record("attention_cross", {"q": q, "k": k, "v": v}, out)

    # Rotary embedding, through transformers' own apply_rotary_pos_emb (half split)
    x = leaf([2, 5, 2, 8], g)
    positions = torch.tensor([[0, 1, 2, 3, 4], [3, 4, 5, 6, 7]])
    inv_freq = 1.0 / (10000 ** (torch.arange(0, 8, 2, dtype=torch.int64).float() / 8))
    freqs = positions[..., None].float() * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    rotated, _ = apply_rotary_pos_emb(x.transpose(1, 2), x.transpose(1, 2), emb.cos(), emb.sin())
    record("rotary", {"x": x}, rotated.transpose(1, 2), {"positions": positions.float()})

    # Cross-entropy with ignored positions, mean and sum
    logits = leaf([6, 11], g, 2.0)
    targets = torch.tensor([3, -100, 0, 10, -100, 7])
    record("cross_entropy_mean", {"logits": logits}, F.cross_entropy(logits, targets, ignore_index=-100).reshape([]),
           {"targets": targets.float()})
    logits = leaf([6, 11], g, 2.0)
    record("cross_entropy_sum", {"logits": logits}, F.cross_entropy(logits, targets, ignore_index=-100, reduction="sum").reshape([]),
           {"targets": targets.float()})

    # Patch embedding: Conv2d(3, 5, kernel 4, stride 4), flattened as the ViT does
    images, weight, bias = leaf([2, 3, 8, 8], g), leaf([5, 3, 4, 4], g), leaf([5], g)
    out = F.conv2d(images, weight, bias, stride=4).flatten(2).transpose(1, 2)
    record("patch_embedding", {"images": images, "weight": weight, "bias": bias}, out)

    return t


def adamw_fixture():
    """Five AdamW steps with changing learning rates, decay on the matrix only, then clipping."""
    g = torch.Generator().manual_seed(99)
    matrix = torch.randn(4, 3, generator=g).requires_grad_(True)
    vector = torch.randn(5, generator=g).requires_grad_(True)
    t = {"initial.matrix": matrix.detach().clone(), "initial.vector": vector.detach().clone()}
    optimizer = torch.optim.AdamW(
        [{"params": [matrix], "weight_decay": 0.1}, {"params": [vector], "weight_decay": 0.0}],
        lr=1e-2, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    rates = [1e-2, 2e-2, 5e-3, 1e-2, 3e-2]
    for step, lr in enumerate(rates):
        for group in optimizer.param_groups:
            group["lr"] = lr
        matrix.grad = torch.randn(4, 3, generator=g)
        vector.grad = torch.randn(5, generator=g) * 0.1
        t[f"grad.{step}.matrix"] = matrix.grad.clone()
        t[f"grad.{step}.vector"] = vector.grad.clone()
        optimizer.step()
        t[f"after.{step}.matrix"] = matrix.detach().clone()
        t[f"after.{step}.vector"] = vector.detach().clone()
    t["learning_rates"] = torch.tensor(rates)

    # clip_grad_norm_ on the last gradients
    norm = torch.nn.utils.clip_grad_norm_([matrix, vector], max_norm=1.0)
    t["clip.norm"] = norm.reshape([1])
    t["clip.matrix"] = matrix.grad.clone()
    t["clip.vector"] = vector.grad.clone()

    # Learning-rate schedules with warm-up, as the Trainer builds them
    dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=3e-4)
    for name, make in [
        ("linear", transformers.get_linear_schedule_with_warmup),
        ("cosine", transformers.get_cosine_schedule_with_warmup),
    ]:
        scheduler = make(dummy, num_warmup_steps=4, num_training_steps=20)
        t[f"schedule.{name}"] = torch.tensor([scheduler.lr_lambdas[0](step) * 3e-4 for step in range(24)])
    return t


def dtypes_fixture():
    """One tensor per element type, with its values as F32 for comparison."""
    base = torch.tensor([[0.0, 1.0, -2.5, 3.140625], [65504.0, -1e-4, 6e-8, 0.333]])
    return {
        "f32": base.clone(),
        "f16": base.half(),
        "f16_as_f32": base.half().float(),
        "bf16": base.bfloat16(),
        "bf16_as_f32": base.bfloat16().float(),
        "f64": base.double(),
        "i64": torch.tensor([[1, -2, 3], [2**40, 0, -(2**33)]], dtype=torch.int64),
        "i32": torch.tensor([7, -8], dtype=torch.int32),
        "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, tensors in [("ops", ops_fixture()), ("adamw", adamw_fixture()), ("dtypes", dtypes_fixture())]:
        path = OUT / f"{name}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=VERSIONS)
        print(f"wrote {path.relative_to(OUT.parent.parent.parent)} ({len(tensors)} tensors)")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in VERSIONS.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
