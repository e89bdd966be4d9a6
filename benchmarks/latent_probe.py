"""Latent probe: does the autoencoder's latent carry the player's position?

  make bench-more   (or: .venv/bin/python benchmarks/latent_probe.py [--envs minigrid,atari]
                     [--seeds 3] [--updates 3000] [--atari_updates 300])

The note's failure: at reconstruction loss ~230 the Atari reconstructions showed the level but not
the player ("no state-specific information"). This measures it. Per env and regulariser
(``none`` | ``kl`` | ``mmd``, the encoder of the agents' config otherwise):

1. States from a uniformly random policy (envpool, host steps), with
   the position: MiniGrid ``info["agent_pos"]`` (x, y); Montezuma RAM x, y (and the room, reported
   only where it varies). The envs are split: the first 3/4 train, the rest are held out, so no
   held-out state sits next to a training state of the same episode.
2. The autoencoder trains ``--updates`` steps on the training states (its own stream holds them
   all), with the config's optimiser and batch size.
3. A ridge regression (closed form) from latent to each coordinate is fitted on the training
   states, its lambda picked per coordinate on a validation quarter of the training envs;
   reported is R^2 on the held-out states (1 = position linearly readable, 0 = no better than
   the mean, below 0 = worse). MiniGrid env: ``--minigrid_env`` (FourRooms: 19x19, fixed walls).

References in the same table: the same probe on the raw encoder input (one-hot MiniGrid view,
or for Atari the 84x84x4 pixels downsampled 4x; what a linear read-out of the observation gets) and
on an untrained encoder's latent (what the architecture alone gives). Mean and spread over seeds.
Table to stdout, JSON to ``benchmarks/results/latent_probe.json``.

Note: MiniGrid's observation is the agent's 7x7 egocentric view, so its position is only partly
in the observation at all (the raw-input row is the reference for that). Montezuma at
``--atari_updates`` on a CPU is far from the note's converged encoder: the learning rate is raised
to 1e-4 (the note's 1e-6 moves nothing in a few hundred steps), the encoder is Nature-CNN-shaped
unless ``--atari_encoder=note`` (the note's stride-1 8x8 convolutions take seconds per update on
this CPU), and the numbers say what a young encoder holds, not what a converged one does.
"""
from __future__ import annotations

import argparse
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGULARISERS = {"none": 0.0, "kl": 1.0, "mmd": 10.0}  # reg_weight of each


def collect(env: str, envs_per_pool: int, steps: int, seed: int, minigrid_env: str):
  """Random-policy observations, positions [n, k] and env ids from one pool."""
  from goalrl import envs
  from goalrl.config import load_experiment
  config = load_experiment(os.path.join(ROOT, "experiments", "optimistic_dqn.py"), env)
  cfg = config.env.copy_and_resolve_references()
  cfg.num_envs = envs_per_pool
  if env == "minigrid":
    cfg.name = minigrid_env
  pool = envs.make_pool(cfg, seed)
  spec = envs.make_spec(cfg, pool)
  rng = np.random.default_rng(seed)
  obs, info = pool.reset()
  observations, positions, env_ids = [], [], []
  for _ in range(steps):
    obs, _, _, _, info = pool.step(rng.integers(0, spec.num_actions, envs_per_pool).astype(np.int32))
    if spec.kind == "atari":
      ram = info["ram"][:, list(envs.MONTEZUMA_RAM)].astype(np.float32)
      observations.append(np.asarray(obs))
      positions.append(ram[:, [1, 2, 0]])  # x, y, room
    else:
      observations.append({"image": obs["image"], "direction": obs["direction"].astype(np.int32)})
      positions.append(info["agent_pos"].astype(np.float32))
    env_ids.append(np.arange(envs_per_pool))
  stack = lambda xs: (np.concatenate(xs) if not isinstance(xs[0], dict) else
                      {k: np.concatenate([x[k] for x in xs]) for k in xs[0]})
  return config, spec, stack(observations), np.concatenate(positions), np.concatenate(env_ids)


LAMBDAS = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)


def ridge_r2(x_train, y_train, x_test, y_test, lam: float) -> np.ndarray:
  """R^2 per target of a ridge regression fitted on train, scored on test."""
  mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
  a = np.c_[(x_train - mu) / sd, np.ones(len(x_train))]
  b = np.c_[(x_test - mu) / sd, np.ones(len(x_test))]
  reg = lam * np.eye(a.shape[1])
  reg[-1, -1] = 0.0
  w = np.linalg.solve(a.T @ a + reg, a.T @ y_train)
  sse = ((b @ w - y_test) ** 2).sum(0)
  sst = ((y_test - y_test.mean(0)) ** 2).sum(0)
  return 1.0 - sse / np.maximum(sst, 1e-12)


def probe_r2(x, y, env_ids, num_envs: int) -> np.ndarray:
  """Held-out R^2 (last quarter of the envs) of a ridge probe whose lambda is picked per target
  on a validation split of the training envs (their last quarter), then refitted on all of them."""
  train, fit = env_ids < num_envs * 3 // 4, env_ids < num_envs * 9 // 16
  val = train & ~fit
  best = np.argmax([ridge_r2(x[fit], y[fit], x[val], y[val], lam) for lam in LAMBDAS], axis=0)
  return np.array([ridge_r2(x[train], y[train][:, [j]], x[~train], y[~train][:, [j]],
                            LAMBDAS[best[j]])[0] for j in range(y.shape[1])])


def train_encoder(config, spec, reg: str, train_obs, updates: int, lr: float | None, seed: int,
                  atari_encoder: str = "nature"):
  """(trained params, initial params, last reconstruction loss) of the config's autoencoder;
  Atari: with the architecture and batch of ``config.ATARI_ENCODERS[atari_encoder]``."""
  import jax
  from goalrl import encoder as encoder_lib
  from goalrl.config import ATARI_ENCODERS
  cfg = config.agent.encoder.copy_and_resolve_references()
  n = len(jax.tree.leaves(train_obs)[0])
  cfg.regulariser, cfg.reg_weight, cfg.stream_size, cfg.stream = reg, REGULARISERS[reg], n, "fifo"
  if spec.kind == "atari":
    cfg.update(ATARI_ENCODERS[atari_encoder])
  if lr:
    cfg.learning_rate = lr
  ae = encoder_lib.make_autoencoder(cfg, spec)
  key = jax.random.PRNGKey(seed)
  state = ae.init(key)
  initial = state.params
  state = jax.jit(ae.observe)(state, train_obs, key)  # FIFO of exactly n: every training state
  update = jax.jit(ae.update)
  metrics = {}
  for i in range(updates):
    state, metrics = update(state, jax.random.fold_in(key, i))
  return ae, state.params, initial, float(metrics.get("recon_loss", np.nan))


def encode_all(ae, params, obs, batch: int = 512) -> np.ndarray:
  import jax
  encode = jax.jit(ae.encode)
  n = len(jax.tree.leaves(obs)[0])
  return np.concatenate([np.asarray(encode(params, jax.tree.map(lambda x: x[i:i + batch], obs)))
                         for i in range(0, n, batch)])


def raw_features(spec, obs) -> np.ndarray:
  import jax
  from goalrl import encoder as encoder_lib
  x = np.asarray(encoder_lib.encoder_input(spec.kind, jax.tree.map(np.asarray, obs)))
  if spec.kind == "atari":
    x = x[:, ::4, ::4, :]  # 21x21x4: a linear read-out of the pixels without 28k features
  return x.reshape(len(x), -1)


def probe_env(env: str, args) -> dict:
  import jax
  names = ["x", "y", "room"] if env == "atari" else ["x", "y"]
  rows: dict = {}
  for seed in range(args.seeds):
    steps, num_envs = ((args.atari_steps, args.atari_envs) if env == "atari"
                       else (args.steps, args.envs_per_pool))
    config, spec, obs, pos, env_ids = collect(env, num_envs, steps, seed, args.minigrid_env)
    train = env_ids < num_envs * 3 // 4
    pick = lambda tree, m: jax.tree.map(lambda x: x[m], tree)
    varies = pos[train].std(0) > 0
    score = lambda feats: probe_r2(feats, pos[:, varies], env_ids, num_envs)
    rows.setdefault("raw input", []).append((score(raw_features(spec, obs)), np.nan))
    updates = args.atari_updates if env == "atari" else args.updates
    lr = 1e-4 if env == "atari" else None
    for reg in REGULARISERS:
      ae, params, initial, recon = train_encoder(config, spec, reg, pick(obs, train), updates,
                                                 lr, seed, args.atari_encoder)
      if reg == "none":
        rows.setdefault("untrained encoder", []).append((score(encode_all(ae, initial, obs)),
                                                         np.nan))
      rows.setdefault(f"AE {reg}", []).append((score(encode_all(ae, params, obs)), recon))
    print(f"  {env} seed {seed} done", flush=True)
  targets = [n for n, v in zip(names, varies) if v]
  out = {}
  for name, results in rows.items():
    r2 = np.array([r for r, _ in results])
    out[name] = {"r2_mean": dict(zip(targets, r2.mean(0).tolist())),
                 "r2_std": dict(zip(targets, r2.std(0).tolist())),
                 "recon_loss": float(np.mean([l for _, l in results]))}
  return {"targets": targets, "rows": out, "states": int(len(pos)),
          "held_out": int((~train).sum()), "updates": updates}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--envs", default="minigrid")
  parser.add_argument("--seeds", type=int, default=3)
  parser.add_argument("--envs_per_pool", type=int, default=64, help="MiniGrid envs")
  parser.add_argument("--atari_envs", type=int, default=16)
  parser.add_argument("--steps", type=int, default=1_000, help="MiniGrid steps per env")
  parser.add_argument("--updates", type=int, default=3_000, help="MiniGrid encoder updates")
  parser.add_argument("--atari_steps", type=int, default=400, help="Montezuma steps per env")
  parser.add_argument("--atari_updates", type=int, default=300)
  parser.add_argument("--atari_encoder", default="nature", choices=("nature", "note"),
                      help="note: the note's encoder (kernels 8x4, stride 2,2,1,1, batch 128), "
                      "GPU-sized; nature: the agents' default, Nature-CNN strides, batch 32 "
                      "(goalrl.config.ATARI_ENCODERS)")
  parser.add_argument("--minigrid_env", default="MiniGrid-FourRooms-v0")
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                    "latent_probe.json"))
  args = parser.parse_args()
  from goalrl import metrics
  results = {}
  for env in args.envs.split(","):
    results[env] = probe_env(env, args)
  lines = [f"{'env':<9} {'latent from':<18} " + " ".join(f"{'R2 ' + t:>16}" for t in
                                                         ("x", "y", "room")) + f" {'recon':>9}"]
  for env, r in results.items():
    for name, row in r["rows"].items():
      cells = [f"{row['r2_mean'][t]:>7.3f} +- {row['r2_std'][t]:.3f}" if t in row["r2_mean"]
               else f"{'-':>16}" for t in ("x", "y", "room")]
      lines.append(f"{env:<9} {name:<18} " + " ".join(cells) + f" {row['recon_loss']:>9.2f}")
  text = "\n".join(lines)
  print(f"held-out R^2 of a ridge probe (mean +- std over {args.seeds} seeds)\n{text}")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  metrics.write_json(args.out, {"args": vars(args), "results": results, "table": text})
  print(f"written to {args.out}")


if __name__ == "__main__":
  main()
