"""Grouped convolutions: ``vmap`` over groups vs XLA's ``feature_group_count``, forward + backward.

  .venv/bin/python benchmarks/grouped_conv.py [--batch 32] [--repeats 20]

The layer is the note's encoder layer 3 (64 -> 64 channels, 8x8 kernel, stride 1, on the 21x21
map of an 84x84 frame after two stride-2 layers); groups 1 (a plain ``nn.Conv``), then 2..16 with
each implementation of ``goalrl.networks.GroupedConv``. Time = median over ``--repeats`` calls of
the jitted gradient of a squared-output loss, after a warm-up call (compile excluded). A grouped
layer does 1/G of the plain layer's multiply-adds, so "speed-up" is what the implementation turns
that saving into. Table to stdout, JSON to ``benchmarks/results/grouped_conv_<platform>.json``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp

from goalrl import metrics, networks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def time_grad(module, x, repeats: int) -> float:
  params = module.init(jax.random.PRNGKey(0), x)
  grad = jax.jit(jax.grad(lambda p, x: jnp.sum(module.apply(p, x) ** 2)))
  jax.block_until_ready(grad(params, x))
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(grad(params, x))
    times.append(time.perf_counter() - t0)
  return statistics.median(times)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--batch", type=int, default=32)
  parser.add_argument("--repeats", type=int, default=20)
  parser.add_argument("--groups", default="2,4,8,16")
  parser.add_argument("--out", default=None, help="JSON path (default: "
                      "benchmarks/results/grouped_conv_<platform>.json)")
  args = parser.parse_args()
  x = jax.random.normal(jax.random.PRNGKey(1), (args.batch, 21, 21, 64))
  plain = time_grad(nn.Conv(64, (8, 8), padding="SAME"), x, args.repeats)
  rows = [{"groups": 1, "impl": "nn.Conv", "ms": plain * 1e3, "speedup": 1.0}]
  for g in map(int, args.groups.split(",")):
    for impl in networks.GROUP_IMPLS:
      t = time_grad(networks.GroupedConv(64, (8, 8), groups=g, impl=impl), x, args.repeats)
      rows.append({"groups": g, "impl": impl, "ms": t * 1e3, "speedup": plain / t})
  device = str(jax.devices()[0])
  lines = [f"{device}: fwd+bwd of 64->64 8x8 conv on [{args.batch}, 21, 21, 64], median of "
           f"{args.repeats}", f"{'groups':>6} {'impl':<14} {'ms':>9} {'vs plain':>9}"]
  lines += [f"{r['groups']:>6} {r['impl']:<14} {r['ms']:>9.2f} {r['speedup']:>8.2f}x" for r in rows]
  text = "\n".join(lines)
  print(text)
  out = args.out or os.path.join(ROOT, "benchmarks", "results",
                                 f"grouped_conv_{jax.default_backend()}.json")
  metrics.write_json(out, {"device": device, "args": vars(args), "rows": rows, "table": text})
  print(f"written to {out}")


if __name__ == "__main__":
  main()
