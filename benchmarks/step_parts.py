"""Profile of one loop iteration: the compiled loop against the sum of its parts, each timed alone.

  .venv/bin/python benchmarks/step_parts.py [--agents dqn,...] [--env minigrid|atari]
                                            [--iterations 256] [--reps 5]

(``benchmarks/throughput.py`` runs it per agent as its ``parts`` measurement.)

One iteration of the loop (``goalrl.loop``) steps every env once: the agent acts, stores the step
and runs the updates that are due, the env steps, and the loop's bookkeeping turns the env's output
into the next ``TimeStep``. Each of these is timed here on its own, as a ``lax.scan`` of
``--iterations`` calls inside one compiled program (so no part pays a dispatch the loop does not),
over inputs recorded from the same agent's own rollout (so nothing is loop-invariant and hoisted):

* ``env``: envpool's XLA step on the recorded actions;
* ``act``: ``agent.act`` on the recorded timesteps;
* ``store``: ``agent.observe`` with no update due (replay add, and whatever the agent does every
  env step: the encoder's stream, RND's observation filter);
* ``observe``: ``agent.observe`` at the recorded env steps, updates due on the run's schedule
  (``store`` plus ``updates_per_train`` gradient steps every ``train_every`` iterations);
* ``sample``: one replay sample of ``batch_size`` windows and its n-step transitions (the part
  of a gradient step before the losses), times the gradient steps per iteration;
* ``advance``: the loop's bookkeeping of one env step (episode sums, visit counts, events).

``loop`` is the real compiled chunk (``loop.make_xla_chunk``) of the same length, and
``loop_no_updates`` the same with no update ever due. The agent runs its config's ``:minigrid``
(or ``:atari``) variant with one seed on one device and ``learning_starts`` lowered so updates
are due from the start; the replay holds the warm-up iterations only. Times are in ms per
iteration, the median of ``--reps`` rounds after a warm-up round; each round times every part and
both loops once, back to back, so a slow spell of a shared machine hits them alike (timing each
part's repeats together let one burst double a single part). ``sum`` = env + act + observe +
advance; ``loop / sum`` is the overhead of putting the parts together (1.0 = none).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = {"dqn": "dqn.py", "optimistic_dqn": "optimistic_dqn.py", "rnd_dqn": "rnd_dqn.py",
          "goal_agent": "goal_agent.py"}
PARTS = ("env", "act", "store", "observe", "sample", "advance")


def load_config(agent: str, env: str, replay_size: int = 0, overrides: dict | None = None):
  from goalrl.config import load_experiment
  config = load_experiment(os.path.join(ROOT, "experiments", AGENTS[agent]),
                           "atari" if env == "atari" else "minigrid")
  with config.unlocked():
    for key, value in (overrides or {}).items():
      *path, last = key.split(".")
      node = config
      for part in path:
        node = node[part]
      node[last] = value
    config.agent.learning_starts = config.agent.batch_size
    config.num_seeds, config.parallel.devices = 1, 1
    config.pictures = False
    if replay_size:
      config.agent.replay_size = replay_size
      if "encoder" in config.agent:
        config.agent.encoder.stream_size = min(config.agent.encoder.stream_size, replay_size)
  return config


def seconds(fn, *args) -> float:
  """Wall seconds of one call of ``fn(*args)``, results ready."""
  import jax
  t0 = time.perf_counter()
  jax.block_until_ready(fn(*args))
  return time.perf_counter() - t0


def checksum(tree):
  """A float32 scalar that depends on every leaf: keeps XLA from dropping a part's outputs."""
  import jax
  import jax.numpy as jnp
  return sum(jnp.sum(x.astype(jnp.float32)) for x in jax.tree.leaves(tree))


def measure(agent_name: str, env: str = "minigrid", iterations: int = 256, reps: int = 5,
            replay_size: int = 0, overrides: dict | None = None) -> dict:
  import jax
  import jax.numpy as jnp
  from goalrl import driver, envs, loop, parallel, replay
  config = load_config(agent_name, env, replay_size, overrides)
  with tempfile.TemporaryDirectory() as workdir:
    run, state = driver.build(config, workdir)
  spec, agent, mesh, cfg = run.spec, run.agent, run.mesh, config.agent
  idle_cfg = config.agent.copy_and_resolve_references()
  with idle_cfg.unlocked():
    idle_cfg.learning_starts = 2 ** 30
  from goalrl.agents import make_agent
  idle = make_agent(parallel.per_device_agent(idle_cfg, 1), spec)
  handle, xla_step = envs.make_xla_step(spec, run.pools[0])
  handle = parallel.to_global(handle[None], mesh)
  over = lambda fn: parallel.over_devices(fn, mesh)
  squeeze = lambda tree: jax.tree.map(lambda x: x[0], tree)  # the seed axis (one seed)

  # Warm-up: the real loop fills the replay past learning_starts; its second call is timed.
  chunk = loop.make_xla_chunk(agent, spec, xla_step, iterations, 1, mesh)
  chunk_idle = loop.make_xla_chunk(idle, spec, xla_step, iterations, 1, mesh)
  state, handle, _, _ = chunk(state, handle)

  def record(ls, handle):
    """One more chunk's inputs, iteration by iteration: (timestep, actions, key, env steps, out)."""
    def body(carry, _):
      ls, handle = carry
      key = ls.key
      ls, actions, _ = loop.policy(agent, ls)
      handle, out = xla_step(handle, actions)
      xs = (ls.timestep, actions, key, ls.env_steps, out)
      ls, _ = loop.advance(spec, ls, out)
      return (ls, handle), xs
    (ls, handle), xs = jax.lax.scan(body, (squeeze(ls), handle), None, length=iterations)
    return jax.tree.map(lambda x: x[None], ls), handle, xs

  state, handle, xs = over(record)(state, handle)
  ts, actions, keys, env_steps, outs = xs

  def scan(step, carry, xs):
    return jax.lax.scan(lambda c, x: (step(c, x), None), carry, xs)[0]

  def env_part(handle, actions):
    return scan(lambda h, a: xla_step(h, a)[0], handle, actions)

  def act_part(ls, ts, keys, env_steps):
    def step(carry, x):
      agent_state, total = carry
      agent_state, a, m = agent.act(agent_state, *x)
      return agent_state, total + checksum((a, m))
    return scan(step, (squeeze(ls).agent, 0.0), (ts, keys, env_steps))

  def observe_part(agent_obj):
    def part(ls, ts, actions, keys, env_steps):
      def step(carry, x):
        agent_state, total = carry
        agent_state, m = agent_obj.observe(agent_state, *x)
        return agent_state, total + checksum(m)
      return scan(step, (squeeze(ls).agent, 0.0), (ts, actions, keys, env_steps))
    return part

  horizon = cfg.get("horizon", cfg.n_step)
  buffer = replay.make_buffer(spec, cfg.replay_size, cfg.batch_size, horizon)

  def sample_part(ls, keys):
    replay_state = squeeze(ls).agent.replay
    def step(total, k):
      windows = buffer.sample(replay_state, k).experience
      windows = getattr(windows, "row", windows)  # the goal agent stores (row, goal) pairs
      return total + checksum(replay.transitions(spec, windows, cfg.gamma, horizon))
    return scan(step, 0.0, keys)

  def advance_part(ls, outs):
    return scan(lambda l, out: loop.advance(spec, l, out)[0], squeeze(ls), outs)

  parts = {
      "env": (over(env_part), (handle, actions)),
      "act": (over(act_part), (state, ts, keys, env_steps)),
      "store": (over(observe_part(idle)), (state, ts, actions, keys, env_steps)),
      "observe": (over(observe_part(agent)), (state, ts, actions, keys, env_steps)),
      "sample": (over(sample_part), (state, keys)),
      "advance": (over(advance_part), (state, outs)),
  }
  for fn, args in parts.values():  # compile and warm up
    jax.block_until_ready(fn(*args))
  times = {name: [] for name in (*parts, "loop", "loop_no_updates")}
  loop_state = jax.tree.map(jnp.copy, state)  # the parts' inputs must outlive the donation
  # Round-robin: every round times each part and both loops once, so a slow spell of a shared
  # machine hits all of them alike instead of one part's every repeat.
  for _ in range(reps + 1):
    for name, (fn, args) in parts.items():
      times[name].append(seconds(fn, *args))
    for name, fn in (("loop", chunk), ("loop_no_updates", chunk_idle)):
      t0 = time.perf_counter()
      # the loop chunks donate their state: each call gets the previous call's output
      loop_state, handle, _, row = fn(loop_state, handle)
      jax.block_until_ready(row)
      times[name].append(time.perf_counter() - t0)
  # the first round is the loops' warm-up (their first call compiles)
  ms = {name: 1e3 * statistics.median(t[1:]) / iterations for name, t in times.items()}
  ms["sample"] *= cfg.updates_per_train / cfg.train_every
  loops = {k: ms.pop(k) for k in ("loop", "loop_no_updates")}
  total = ms["env"] + ms["act"] + ms["observe"] + ms["advance"]
  return {"agent": agent_name, "env": env, "num_envs": spec.num_envs,
          "batch_size": cfg.batch_size, "updates_per_iteration":
          cfg.updates_per_train / cfg.train_every, "ms_per_iteration": {**ms, **loops,
                                                                         "sum": total},
          "loop_over_sum": loops["loop"] / total,
          "loop_no_updates_over_sum": loops["loop_no_updates"] / (
              ms["env"] + ms["act"] + ms["store"] + ms["advance"]),
          "loop_sps": spec.num_envs * 1e3 / loops["loop"]}


def table(results: list[dict]) -> str:
  cols = (*PARTS, "sum", "loop", "loop_no_updates")
  head = (f"{'agent':<15} {'envs':>4} {'upd/it':>6} " + " ".join(f"{c[:9]:>9}" for c in cols)
          + f" {'loop/sum':>8} {'idle/sum':>8} {'loop sps':>8}")
  lines = ["ms per loop iteration (median of the reps; sample = per iteration's gradient steps)",
           head, "-" * len(head)]
  for r in results:
    m = r["ms_per_iteration"]
    lines.append(f"{r['agent']:<15} {r['num_envs']:>4} {r['updates_per_iteration']:>6.2f} "
                 + " ".join(f"{m[c]:>9.3f}" for c in cols)
                 + f" {r['loop_over_sum']:>8.2f} {r['loop_no_updates_over_sum']:>8.2f}"
                 f" {r['loop_sps']:>8,.0f}")
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--agents", default=",".join(AGENTS))
  parser.add_argument("--env", default="minigrid", choices=("minigrid", "atari"))
  parser.add_argument("--iterations", type=int, default=256)
  parser.add_argument("--reps", type=int, default=5)
  parser.add_argument("--replay_size", type=int, default=0, help="0 = the config's")
  parser.add_argument("--json", action="store_true", help="one JSON line per agent")
  parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="a config override for every agent, e.g. agent.encoder.train_every=4 "
                      "(VALUE as a Python literal)")
  args = parser.parse_args()
  bad = [a for a in args.agents.split(",") if a not in AGENTS]
  if bad or args.iterations < 32 or args.reps < 1:
    sys.exit(f"error: --agents must be from {', '.join(AGENTS)} (got {bad}), --iterations >= 32 "
             f"(got {args.iterations}), --reps >= 1 (got {args.reps})")
  overrides = {}
  for item in args.set:
    key, _, value = item.partition("=")
    try:
      overrides[key] = ast.literal_eval(value)
    except (ValueError, SyntaxError):
      sys.exit(f"error: --set {item!r}: VALUE must be a Python literal (e.g. 4, 0.5, 'fifo')")
  results = []
  for name in args.agents.split(","):
    results.append(measure(name, args.env, args.iterations, args.reps, args.replay_size,
                           overrides))
    if args.json:
      print("RESULT " + json.dumps(results[-1]), flush=True)
  print(table(results))


if __name__ == "__main__":
  main()
