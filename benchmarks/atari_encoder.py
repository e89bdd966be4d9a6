"""The Atari autoencoders side by side: the cost of one encoder step, and what its latent carries.

  .venv/bin/python benchmarks/atari_encoder.py [--encoders nature,note] [--reps 3]
                                               [--probe_updates 100] [--seeds 1]

For each encoder of ``goalrl.config.ATARI_ENCODERS`` (``nature``: the latent agents' ``:atari``
default; ``note``: the research note's, the agents' ``:atari_note``), at its own batch size:

* **GFLOPs of one encoder step** (``AutoEncoder.update``: a batch drawn from the stream, the
  reconstruction loss, its gradients and the Adam step), from XLA's cost analysis of the compiled
  step on this machine's backend;
* **ms per step**, jitted alone (median of ``--reps`` calls after a warm-up), on this machine;
* the **latent probe** (``benchmarks/latent_probe.py``, Montezuma): the reconstruction loss after
  ``--probe_updates`` steps on random-policy states, and the held-out R^2 of a ridge read-out of
  the player's x and y from the latent. Both encoders get the same states, steps and step size
  (1e-4: the note's 1e-6 moves nothing in so few steps), so the probe compares architectures at
  equal training, far from a converged encoder.

Ratios note / nature are printed under the table. JSON to ``benchmarks/results/atari_encoder.json``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def step_cost(name: str, reps: int) -> dict:
  """GFLOPs and ms of one encoder step of ``ATARI_ENCODERS[name]`` on random frames."""
  import jax
  from goalrl import encoder as encoder_lib
  from goalrl import envs
  from goalrl.config import encoder_defaults
  cfg = encoder_defaults("atari", atari=name, stream_size=256)
  spec = envs.EnvSpec("MontezumaRevenge-v5", "atari", 1, 18, (84, 84), 4, 1, 1, False)
  ae = encoder_lib.make_autoencoder(cfg, spec)
  key = jax.random.PRNGKey(0)
  state = jax.jit(ae.init)(key)
  frames = jax.random.randint(key, (256, 4, 84, 84), 0, 255).astype("uint8")
  state = jax.jit(ae.observe)(state, frames, key)
  compiled = jax.jit(ae.update).lower(state, key).compile()
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  jax.block_until_ready(compiled(state, key))
  times = []
  for i in range(reps):
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(state, jax.random.fold_in(key, i)))
    times.append(time.perf_counter() - t0)
  return {"gflops": cost.get("flops", float("nan")) / 1e9, "ms": 1e3 * statistics.median(times),
          "batch_size": cfg.batch_size, "params": encoder_lib.param_count(state.params)}


def probe(names: list[str], updates: int, seeds: int) -> dict:
  """Reconstruction loss and held-out R^2 (x, y) of each encoder, on the same states."""
  import jax
  import latent_probe as lp
  out = {n: {"recon": [], "r2_x": [], "r2_y": []} for n in names}
  for seed in range(seeds):
    config, spec, obs, pos, env_ids = lp.collect("atari", 16, 400, seed, "")
    num_envs = 16
    train = env_ids < num_envs * 3 // 4
    pick = lambda tree, m: jax.tree.map(lambda x: x[m], tree)
    for name in names:
      ae, params, _, recon = lp.train_encoder(config, spec, "none", pick(obs, train), updates,
                                              1e-4, seed, name)
      r2 = lp.probe_r2(lp.encode_all(ae, params, obs), pos[:, :2], env_ids, num_envs)
      out[name]["recon"].append(recon)
      out[name]["r2_x"].append(float(r2[0]))
      out[name]["r2_y"].append(float(r2[1]))
  return {n: {k: float(np.mean(v)) for k, v in r.items()} for n, r in out.items()}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--encoders", default="nature,note")
  parser.add_argument("--reps", type=int, default=3)
  parser.add_argument("--probe_updates", type=int, default=100, help="0 = no probe")
  parser.add_argument("--seeds", type=int, default=1)
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                    "atari_encoder.json"))
  args = parser.parse_args()
  from goalrl import metrics
  from goalrl.config import ATARI_ENCODERS
  names = args.encoders.split(",")
  bad = [n for n in names if n not in ATARI_ENCODERS]
  if bad or args.reps < 1 or args.probe_updates < 0 or args.seeds < 1:
    sys.exit(f"error: --encoders must be from {', '.join(ATARI_ENCODERS)} (got {bad}), --reps "
             f">= 1, --probe_updates >= 0, --seeds >= 1 (got {args.reps}, "
             f"{args.probe_updates}, {args.seeds})")
  results = {n: {**ATARI_ENCODERS[n], **step_cost(n, args.reps)} for n in names}
  if args.probe_updates:
    for n, r in probe(names, args.probe_updates, args.seeds).items():
      results[n].update(r)
  head = (f"{'encoder':<8} {'kernels':<12} {'strides':<10} {'batch':>5} {'params':>9} "
          f"{'GFLOP/step':>10} {'ms/step':>9} {'recon':>8} {'R2 x':>6} {'R2 y':>6}")
  lines = [head, "-" * len(head)]
  for n, r in results.items():
    lines.append(f"{n:<8} {'/'.join(map(str, r['kernels'])):<12} "
                 f"{'/'.join(map(str, r['strides'])):<10} {r['batch_size']:>5} "
                 f"{r['params']:>9,} {r['gflops']:>10.2f} {r['ms']:>9.1f} "
                 f"{r.get('recon', float('nan')):>8.1f} {r.get('r2_x', float('nan')):>6.3f} "
                 f"{r.get('r2_y', float('nan')):>6.3f}")
  if {"nature", "note"} <= set(results):
    a, b = results["note"], results["nature"]
    lines.append(f"note / nature: {a['gflops'] / b['gflops']:.0f}x the FLOPs, "
                 f"{a['ms'] / b['ms']:.0f}x the CPU time per encoder step")
  text = "\n".join(lines)
  print(text)
  metrics.write_json(args.out, {"args": vars(args), "table": text, "results": results})
  print(f"written to {args.out}")


if __name__ == "__main__":
  main()
