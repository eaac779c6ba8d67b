#!/usr/bin/env python3
"""Writes bitsandbytes' NF4 reference values to Tests/Fixtures/tensor/nf4.json.

Run from the package root in a throwaway venv with torch and bitsandbytes (0.50.2, CPU backend):
    python scripts/make_nf4_fixtures.py
Two cases, each quantised with bitsandbytes.functional.quantize_4bit(blocksize=64, quant_type="nf4"),
once plain and once with compress_statistics=True (double quantisation of the absmax scales):
  * "edges": 525 values (a partial last block and an odd count, so a padding nibble) built to hit
    exact zeros, codebook values, exact midpoints between codes, an all-zero block, a block whose
    absmax is a negative value, and subnormal-sized values; then random normals.
  * "weight": a [64, 320] weight (320 blocks, so the scales' 256-blocks include a partial one),
    generated from an integer hash that Swift reproduces exactly (only the outputs are stored).
Packed codes and quantised scales are hex strings; floats are float32 values written exactly.
"""
import base64
import json
import os

import numpy as np
import torch
import bitsandbytes
import bitsandbytes.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "tensor", "nf4.json")
f32 = np.float32


def floats(x):
    return [float(v) for v in torch.as_tensor(x).reshape(-1).to(torch.float32).tolist()]


def f32_base64(x):
    return base64.b64encode(torch.as_tensor(x).reshape(-1).to(torch.float32).numpy().astype("<f4").tobytes()).decode()


def edge_values(code):
    mids = (code[:-1] + code[1:]) / f32(2)
    rng = np.random.default_rng(7)
    b0 = np.concatenate([[f32(1.0)], code, mids, [f32(0), f32(-0.0)], rng.uniform(-1, 1, 64 - 1 - 16 - 15 - 2)])
    b1 = np.zeros(64)                                                     # an all-zero block
    b2 = np.concatenate([[-3.5], rng.normal(0, 1, 63)])                   # absmax from a negative value
    b3 = np.concatenate([[1e-38, -2e-39, 1e-30], np.zeros(61)])           # tiny absmax
    b4 = (mids * f32(0.75)).astype(f32)                                   # midpoints at a non-unit scale
    b4 = np.concatenate([[f32(0.75)], b4, rng.normal(0, 0.3, 64 - 16)])
    rest = rng.normal(0, 0.05, 64 * 3 + 13)                               # 3 blocks + a partial block of 13
    return np.concatenate([b0, b1, b2, b3, b4, rest]).astype(f32)


def hashed_weight(rows, cols):
    """x[r, c] = (h(i) >> 8 − 2²³) / 2²³ · (1 + r mod 7) / 8, h(i) = i·2654435761 mod 2³², i = r·cols + c."""
    i = np.arange(rows * cols, dtype=np.uint64)
    h = (i * np.uint64(2654435761)) % np.uint64(1 << 32)
    unit = ((h >> np.uint64(8)).astype(np.int64) - (1 << 23)).astype(f32) / f32(1 << 23)
    scale = ((1 + np.arange(rows) % 7) / 8).astype(f32)
    return (unit.reshape(rows, cols) * scale[:, None]).astype(f32)


def quantise(x, double):
    t = torch.from_numpy(x)
    packed, state = F.quantize_4bit(t, blocksize=64, quant_type="nf4", compress_statistics=double)
    out = {"packed": packed.numpy().reshape(-1).tobytes().hex(), "dequantized": f32_base64(F.dequantize_4bit(packed, state))}
    if double:
        out["quantizedAbsmax"] = state.absmax.numpy().tobytes().hex()
        out["offset"] = float(state.offset)
        out["absmax2"] = floats(state.state2.absmax)
        out["code2"] = floats(state.state2.code)
        out["absmax"] = floats(F.dequantize_blockwise(state.absmax, state.state2) + state.offset)
    else:
        out["absmax"] = floats(state.absmax)
    return out


def case(x, with_input):
    c = {"shape": list(x.shape), "single": quantise(x, False), "double": quantise(x, True)}
    if with_input:
        c["input"] = floats(torch.from_numpy(x))
    return c


def main():
    code = F.get_4bit_type("nf4", device="cpu").numpy().astype(f32)
    fixture = {
        "generator": f"scripts/make_nf4_fixtures.py (bitsandbytes {bitsandbytes.__version__}, torch {torch.__version__}, CPU)",
        "nf4Code": floats(torch.from_numpy(code)),
        "dynamicMap": floats(F.create_dynamic_map(signed=True)),
        "edges": case(edge_values(code), True),
        "weight": case(hashed_weight(64, 320), False),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
