"""The note's architecture options, with vs without, on the autoencoder they change (issue 8).

  make bench-more   (or: .venv/bin/python benchmarks/note_options.py [--seeds 3]
                     [--updates 4000] [--conv_updates 1000])

Freeze-and-grow and grouped convolutions act on the autoencoder, so this measures them where they
act: the autoencoder of the agents' MiniGrid config trains on states of a uniformly random policy
(``latent_probe.collect``: FourRooms, 64 envs x 1,000 steps; the last quarter of the envs held
out) and reports the reconstruction loss on the held-out states, the time per update after
compilation, and, with freeze-and-grow, the trials started and branches kept. Settings:

* ``dense``: the MiniGrid default (dense, hidden 256, latent 32, MMD), grow off vs on, and a
  plain one widened to about the grown one's parameter count (two branches of width 64 add ~50%);
* ``small``: the same with hidden 16 and latent 4, a network small enough to plateau: off vs on vs
  plain at the grown size (here the branches are most of the grown network). Growth has to beat
  the widened plain network, not only the original, to be worth its schedule;
* ``conv``: two 3x3 conv layers of 32 channels, plain vs 4 groups (``feature_group`` and
  ``vmap``, which compute the same function, so only their time differs).

Grow settings scale with ``--updates``: patience and trial window of ``updates / 16`` each, EMA
span of a quarter of that, margin 2%. Mean and std over ``--seeds``. The learning comparison in
the agents (optimistic DQN on DoorKey-5x5, grow off vs on) is ``experiments/sweeps/grow.py``.
Table to stdout, JSON to ``benchmarks/results/note_options.json``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


def settings(updates: int):
  window = max(updates // 16, 20)
  grow_on = dict(branches=2, patience=window, trial_updates=window, ema=1.0 - 4.0 / window,
                 margin=0.02)
  dense, small = {}, dict(hidden=16, latent=4)
  conv = dict(kernels=(3, 3), channels=(32, 32), strides=(1, 1))
  return [
      ("dense", "grow off", dense, {}),
      ("dense", "grow on", dense, grow_on),
      ("dense", "hidden 384 (~grown size)", dict(hidden=384), {}),
      ("small", "grow off", small, {}),
      ("small", "grow on", small, grow_on),
      ("small", "hidden 144 (~grown size)", dict(small, hidden=144), {}),
      ("conv", "groups 1", conv, {}),
      ("conv", "groups 4 feature_group", {**conv, "groups": 4}, {}),
      ("conv", "groups 4 vmap", {**conv, "groups": 4, "group_impl": "vmap"}, {}),
  ]


def heldout_loss(ae, params, obs, batch: int = 512) -> float:
  import jax
  loss = jax.jit(lambda p, o: ae.loss(p, o, jax.random.PRNGKey(0))[1]["recon_loss"])
  n = len(jax.tree.leaves(obs)[0])
  parts = [(float(loss(params, jax.tree.map(lambda x: x[i:i + batch], obs))),
            min(batch, n - i)) for i in range(0, n, batch)]
  return sum(v * w for v, w in parts) / n


def run(spec, base_cfg, arch: dict, grow: dict, train_obs, test_obs, updates: int, seed: int):
  import jax
  from goalrl import encoder as encoder_lib
  from goalrl.config import encoder_errors
  cfg = base_cfg.copy_and_resolve_references()
  cfg.update(arch)
  cfg.grow.update(grow)
  n = len(jax.tree.leaves(train_obs)[0])
  cfg.stream_size, cfg.stream = n, "fifo"
  errors = encoder_errors(cfg, spec.name)
  if errors:
    raise ValueError("; ".join(errors))
  ae = encoder_lib.make_autoencoder(cfg, spec)
  key = jax.random.PRNGKey(seed)
  state = jax.jit(ae.observe)(ae.init(key), train_obs, key)
  update = jax.jit(ae.update)
  state, metrics = update(state, jax.random.fold_in(key, 0))
  jax.block_until_ready(state)
  t0 = time.time()
  for i in range(1, updates):
    state, metrics = update(state, jax.random.fold_in(key, i))
  jax.block_until_ready(state)
  ms = (time.time() - t0) / max(updates - 1, 1) * 1e3
  out = {"heldout_recon": heldout_loss(ae, state.params, test_obs), "ms_per_update": ms,
         "params": encoder_lib.param_count(state.params)}
  if "last/grow_trials" in metrics:
    out.update(trials=int(metrics["last/grow_trials"]), kept=int(metrics["last/grow_kept"]))
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--seeds", type=int, default=3)
  parser.add_argument("--updates", type=int, default=4_000, help="dense and small settings")
  parser.add_argument("--conv_updates", type=int, default=1_000, help="conv settings")
  parser.add_argument("--envs_per_pool", type=int, default=64)
  parser.add_argument("--steps", type=int, default=1_000, help="random-policy steps per env")
  parser.add_argument("--minigrid_env", default="MiniGrid-FourRooms-v0")
  parser.add_argument("--only", default="", help="comma-separated families (dense,small,conv)")
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                    "note_options.json"))
  args = parser.parse_args()
  import jax
  from goalrl import metrics
  from latent_probe import collect
  config, spec, obs, _, env_ids = collect("minigrid", args.envs_per_pool, args.steps, 0,
                                          args.minigrid_env)
  train = env_ids < args.envs_per_pool * 3 // 4
  pick = lambda mask: jax.tree.map(lambda x: x[mask], obs)
  train_obs, test_obs = pick(train), pick(~train)
  only = set(filter(None, args.only.split(",")))
  results, lines = [], []
  header = (f"{'family':<7} {'setting':<24} {'updates':>7} {'held-out recon':>18} "
            f"{'ms/update':>10} {'params':>9} {'trials/kept':>12}")
  print(header, flush=True)
  for family, name, arch, grow in settings(args.updates):
    if only and family not in only:
      continue
    updates = args.conv_updates if family == "conv" else args.updates
    per_seed = [run(spec, config.agent.encoder, arch, grow, train_obs, test_obs, updates, s)
                for s in range(args.seeds)]
    recon = np.array([r["heldout_recon"] for r in per_seed])
    ms = np.array([r["ms_per_update"] for r in per_seed])
    grown = (f"{np.mean([r['trials'] for r in per_seed]):.1f}/"
             f"{np.mean([r['kept'] for r in per_seed]):.1f}" if "trials" in per_seed[0] else "-")
    line = (f"{family:<7} {name:<24} {updates:>7} {recon.mean():>9.3f} +- {recon.std():<5.3f} "
            f"{ms.mean():>10.2f} {per_seed[0]['params']:>9,} {grown:>12}")
    print(line, flush=True)
    lines.append(line)
    results.append({"family": family, "setting": name, "arch": arch, "grow": grow,
                    "updates": updates, "per_seed": per_seed})
  table = "\n".join([header, *lines])
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  metrics.write_json(args.out, {"args": vars(args), "device": jax.devices()[0].device_kind,
                                "results": results, "table": table})
  print(f"held-out reconstruction loss, mean +- std over {args.seeds} seeds "
        f"({args.minigrid_env}, random policy)\nwritten to {args.out}")


if __name__ == "__main__":
  main()
