"""Speed: raw envpool SPS vs the training loop's SPS, and the first chunk's compile time.

  make bench            (or: .venv/bin/python benchmarks/sps.py [--quick])

Prints a table and writes ``runs/bench/sps.json``. Raw SPS steps envpool alone with fixed
actions: through ``env.xla()`` inside a jitted scan, and through the host ``step``. Loop SPS is
``perf/sps`` of real ``goalrl.train`` runs (median over log intervals), with DQN updates on.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from goalrl import envs, train
from goalrl.config import load_experiment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def experiment(variant):
  return load_experiment(os.path.join(ROOT, "experiments", "dqn.py"), variant)


def raw_sps(name: str, num_envs: int, steps: int) -> dict:
  cfg = ml_collections.ConfigDict(dict(name=name, num_envs=num_envs, num_threads=0,
                                       max_episode_steps=0, repeat_action_probability=0.25,
                                       reward_clip=True))
  pool = envs.make_pool(cfg, 0)
  pool.reset()
  handle, _, _, step = pool.xla()
  actions = jnp.zeros(num_envs, jnp.int32)
  run = jax.jit(lambda h: jax.lax.scan(lambda h, _: (step(h, actions)[0], None), h, None,
                                       length=steps // num_envs)[0])
  jax.block_until_ready(run(handle))
  t0 = time.time()
  jax.block_until_ready(run(handle))
  xla = steps / (time.time() - t0)
  host_actions = np.zeros(num_envs, np.int32)
  t0 = time.time()
  for _ in range(steps // num_envs):
    pool.step(host_actions)
  host = steps / (time.time() - t0)
  return {"xla": xla, "host": host}


def loop_sps(config) -> dict:
  with tempfile.TemporaryDirectory() as workdir:
    rows = train.train(config, workdir, progress=False)
  sps = [r["perf/sps"] for r in rows[1:]] or [rows[0]["perf/sps"]]
  return {"sps": statistics.median(sps), "compile_s": rows[0].get("perf/compile_seconds")}


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--quick", action="store_true", help="smaller budgets, for a smoke check")
  args = parser.parse_args()
  scale = 0.25 if args.quick else 1.0
  results = {"device": str(jax.devices()[0]), "cpus": os.cpu_count()}

  results["raw/minigrid"] = raw_sps("MiniGrid-DoorKey-5x5-v0", 16, int(400_000 * scale))
  results["raw/atari"] = raw_sps("MontezumaRevenge-v5", 8, int(8_000 * scale))

  mg = experiment("minigrid")
  mg.total_steps, mg.log_every = int(80_000 * scale) // 10_000 * 10_000 or 10_000, 10_000
  mg.checkpoint_every = mg.total_steps
  mg.agent.learning_starts = mg.agent.batch_size
  for rollout in ("xla", "host"):
    mg.env.rollout = rollout
    results[f"loop/minigrid/{rollout}"] = loop_sps(mg)

  at = experiment("atari")
  at.total_steps, at.log_every, at.checkpoint_every = 768, 256, 768
  at.agent.replay_size, at.agent.learning_starts = 8_192, at.agent.batch_size
  results["loop/atari/xla (updates on)"] = loop_sps(at)
  at.agent.learning_starts = 10 ** 9
  results["loop/atari/xla (act only)"] = loop_sps(at)

  print(f"\n{'measurement':<34} {'env steps/s':>12} {'compile s':>10}")
  for key, value in results.items():
    if key.startswith("raw/"):
      for path, sps in value.items():
        print(f"{key + ' ' + path:<34} {sps:>12,.0f} {'':>10}")
    elif key.startswith("loop/"):
      compile_s = f"{value['compile_s']:.1f}" if value["compile_s"] else "-"
      print(f"{key:<34} {value['sps']:>12,.0f} {compile_s:>10}")
  os.makedirs(os.path.join(ROOT, "runs", "bench"), exist_ok=True)
  out = os.path.join(ROOT, "runs", "bench", "sps.json")
  with open(out, "w") as f:
    json.dump(results, f, indent=2)
  print(f"\n{results['device']}, {results['cpus']} CPUs; written to {out}")


if __name__ == "__main__":
  sys.exit(main())
