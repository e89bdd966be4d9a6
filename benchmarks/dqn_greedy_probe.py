"""What a DQN checkpoint's greedy policy does on its MiniGrid env: success, where its steps go, and
what it believes (Q) where it goes wrong. Written to diagnose the baselines issue's collapse (seeds
that reached 0.5-0.75 success fall to 0 once epsilon nears its floor, while ``q_mean`` rises).

  PYTHONPATH=src .venv/bin/python benchmarks/dqn_greedy_probe.py --workdir runs/X [--step 300000]
      [--episodes 32] [--epsilon 0.0]

For each vmapped seed of the run, plays ``--episodes`` episodes (envpool, host-stepped, 16 envs at
a time, the run's own env settings) epsilon-greedy on the checkpoint's online Q and prints:

* success (episodes that reached the goal) and mean episode length;
* the share of each action among the steps taken;
* ``stuck``: the share of steps whose observation equals the one before it (the action changed
  nothing the agent can see: a wall bumped, pickup/drop/toggle/done with no effect);
* ``maxQ``: the mean of max_a Q(s, a) over all steps, over stuck steps, and at the first step of
  each episode. The return is at most 1 (MiniGrid pays 1 - 0.9 t/T once), and a failed episode
  earns 0, so a policy that fails while believing ~0.5 is overestimating.

Params are taken from device 0 (replicas agree). Reads checkpoints of both state layouts (``agent.online`` before the Q-learning core,
``agent.learner.online`` after it).
"""
from __future__ import annotations

import argparse
import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from goalrl import envs
from goalrl.agents import dqn
from goalrl.layout import MINIGRID_ACTIONS



def load(workdir: str, step: int | None):
  config = ml_collections.ConfigDict(json.load(open(os.path.join(workdir, "config.json"))))
  ckpts = os.path.join(os.path.abspath(workdir), "checkpoints")
  step = step or max(int(s) for s in os.listdir(ckpts) if s.isdigit())
  state = ocp.StandardCheckpointer().restore(os.path.join(ckpts, str(step), "state"))
  agent = state["agent"]
  online = agent["learner"]["online"] if "learner" in agent else agent["online"]
  return config, step, online


def play(config, params, seed: int, episodes: int, epsilon: float, num_envs: int = 16):
  env_cfg = ml_collections.ConfigDict(config.env.to_dict())
  env_cfg.num_envs, env_cfg.num_threads = num_envs, 1
  pool = envs.make_pool(env_cfg, seed=10_000 + 100 * seed)
  spec = envs.make_spec(env_cfg, pool)
  net = dqn.make_network(config.agent, spec)
  q_fn = jax.jit(lambda obs: net.apply(params, obs))
  rng = np.random.default_rng(seed)
  out = envs.host_reset(spec, pool)
  prev = None
  # envpool resets an ended env on its next step and ignores that step's action: ``skip`` marks
  # envs showing a terminal observation (no decision), ``first`` those showing a reset one.
  first, skip = np.ones(num_envs, bool), np.zeros(num_envs, bool)
  done_eps, successes, lengths, length = 0, 0, [], np.zeros(num_envs, int)
  counts = np.zeros(spec.num_actions)
  q_all, q_stuck, q_first, stuck_steps, steps = [], [], [], 0, 0
  while done_eps < episodes:
    image, direction = out["fields"]["image"], out["fields"]["direction"]
    q = np.asarray(q_fn(dict(image=jnp.asarray(image), direction=jnp.asarray(direction,
                                                                             jnp.int32))))
    actions = np.where(rng.random(num_envs) < epsilon,
                       rng.integers(0, spec.num_actions, num_envs), q.argmax(1))
    max_q, live = q.max(1), ~skip
    if prev is not None:
      same = (np.all(image == prev[0], axis=(1, 2, 3)) & (direction == prev[1]) & live
              & ~first)
      stuck_steps += int(same.sum())
      q_stuck.extend(max_q[same])
    q_first.extend(max_q[first])
    q_all.extend(max_q[live])
    steps += int(live.sum())
    np.add.at(counts, actions[live], 1)
    prev = (image, direction)
    out = envs.host_step(spec, pool, actions)
    length += live
    ended = np.asarray(out["terminated"]) | np.asarray(out["truncated"])
    for i in np.flatnonzero(ended):
      if done_eps < episodes:
        done_eps += 1
        successes += int(out["reward"][i] > 0)
        lengths.append(length[i])
      length[i] = 0
    first, skip = skip, ended
  names = [MINIGRID_ACTIONS[i] for i in spec.actions or range(spec.num_actions)]
  return dict(success=successes / episodes, length=float(np.mean(lengths)),
              actions={n: round(float(c / counts.sum()), 3) for n, c in zip(names, counts)},
              stuck=stuck_steps / max(steps, 1), max_q=float(np.mean(q_all)),
              max_q_stuck=float(np.mean(q_stuck)) if q_stuck else None,
              max_q_first=float(np.mean(q_first)))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--episodes", type=int, default=32)
  parser.add_argument("--epsilon", type=float, default=0.0)
  args = parser.parse_args()
  config, step, online = load(args.workdir, args.step)
  print(f"{args.workdir} at step {step}, epsilon {args.epsilon}")
  for seed in range(config.num_seeds):
    params = jax.tree.map(lambda x: jnp.asarray(x[0, seed]), online)  # [devices, seeds, ...]
    r = play(config, params, seed, args.episodes, args.epsilon)
    print(f"seed {seed}: success {r['success']:.2f} length {r['length']:.0f} stuck {r['stuck']:.2f} "
          f"maxQ all {r['max_q']:.2f} stuck {r['max_q_stuck'] if r['max_q_stuck'] is None else round(r['max_q_stuck'], 2)} "
          f"first {r['max_q_first']:.2f} actions {r['actions']}")


if __name__ == "__main__":
  main()
