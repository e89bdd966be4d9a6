"""Throughput: raw envpool SPS vs every agent's training-loop SPS vs a DQN written the common way.

  make bench     (or: .venv/bin/python benchmarks/throughput.py [--envs minigrid,atari]
                  [--agents dqn,...] [--minigrid_steps 30000] [--atari_steps 1024])

Measurements, each in its own subprocess (so its peak memory is its own):

* ``raw``: envpool alone, uniformly random actions drawn and stepped inside one jitted
  ``lax.scan`` through ``env.xla()`` -- the ceiling for any loop on that env.
* ``loop/<agent>``: a real ``goalrl.train`` run of the agent's ``:minigrid`` / ``:atari`` config
  with updates on from the start (``learning_starts = batch_size``); SPS is the median of
  ``perf/sps`` over log intervals after the first (which holds the compile). Atari also reports
  the rooms and cells visited, so a long GPU run of this benchmark doubles as a Montezuma run.
* ``reference``: DQN "the common way" (cleanrl's ``dqn_jax.py`` shape): a Python loop over
  ``pool.step``, a numpy ring replay storing ``obs`` and ``next_obs`` per transition, a jitted
  update. Same Q-network, batch size, optimiser and replay ratio (``updates_per_train`` updates of
  ``batch_size`` every ``num_envs`` env steps) as ``loop/dqn``; 1-step targets.

* ``parts/<agent>``: the profile of one loop iteration (``benchmarks/step_parts.py``): env step,
  acting, replay add, the observe step with its updates, replay sampling and the loop's
  bookkeeping, each jitted alone as a scan, against the compiled loop of the same agent, with
  updates and without; ``loop / sum`` is what putting the parts together costs (1.0 = nothing).
  Its ``/ ref`` compares that loop with the Python-loop reference above (the same network and
  replay ratio for DQN; the other agents differ in network and, for some, envs per iteration).

Reported: env steps/s; loop / raw; loop / reference; compile seconds of the first chunk (the
reference: of its first update); peak host RSS, and on GPU the peak device memory; then the
profile table (ms per loop iteration).
Table to stdout, JSON to ``benchmarks/results/throughput.json`` (``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import step_parts  # noqa: E402  (jax-free at import: the parent process stays off the device)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = {"dqn": "dqn.py", "optimistic_dqn": "optimistic_dqn.py", "rnd_dqn": "rnd_dqn.py",
          "goal_agent": "goal_agent.py"}


def peak_memory() -> dict:
  import jax
  out = {"device": str(jax.devices()[0]), "platform": jax.default_backend(),
         "peak_host_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
  stats = jax.local_devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    out["peak_device_mb"] = stats["peak_bytes_in_use"] / 2 ** 20
  return out


def env_config(env: str):
  from goalrl.config import load_experiment
  return load_experiment(os.path.join(ROOT, "experiments", "dqn.py"),
                         "atari" if env == "atari" else "minigrid")


def measure_raw(env: str, steps: int) -> dict:
  import jax
  from goalrl import envs
  cfg = env_config(env).env
  pool = envs.make_pool(cfg, 0)
  pool.reset()
  handle, _, _, step = pool.xla()
  n, num_actions = cfg.num_envs, int(pool.action_space.n)

  def body(carry, _):
    h, key = carry
    key, k = jax.random.split(key)
    h, _ = step(h, jax.random.randint(k, (n,), 0, num_actions))
    return (h, key), None

  run = jax.jit(lambda h, key: jax.lax.scan(body, (h, key), None, length=steps // n)[0][0])
  t0 = time.time()
  handle = jax.block_until_ready(run(handle, jax.random.PRNGKey(0)))
  compile_s = time.time() - t0
  t0 = time.time()
  jax.block_until_ready(run(handle, jax.random.PRNGKey(1)))
  return {"sps": (steps // n) * n / (time.time() - t0), "compile_s": compile_s}


def measure_loop(env: str, agent: str, steps: int, replay_size: int, rollout: str) -> dict:
  from goalrl import train
  from goalrl.config import load_experiment
  config = load_experiment(os.path.join(ROOT, "experiments", AGENTS[agent]),
                           "atari" if env == "atari" else "minigrid")
  with config.unlocked():
    config.total_steps = steps
    config.log_every = steps // 4
    config.checkpoint_every = steps
    config.agent.learning_starts = config.agent.batch_size
    config.env.rollout = rollout
    if replay_size:
      config.agent.replay_size = replay_size
      if "encoder" in config.agent:
        config.agent.encoder.stream_size = min(config.agent.encoder.stream_size, replay_size)
  with tempfile.TemporaryDirectory() as workdir:
    rows = train.train(config, workdir, progress=False)
  out = {"sps": statistics.median([r["perf/sps"] for r in rows[1:]]),
         "compile_s": rows[0]["perf/compile_seconds"], "updates": sum(r["updates"] for r in rows)}
  for key in ("rooms", "coverage", "episode_return"):
    values = [r[key] for r in rows if r.get(key) is not None]
    if values:
      out[key] = max(values)
  return out


def measure_reference(env: str, steps: int, replay_size: int) -> dict:
  """Python-loop DQN with numpy replay and a jitted update (see the module doc)."""
  import jax
  import jax.numpy as jnp
  import numpy as np
  import optax
  from goalrl import envs, losses, networks, replay
  from goalrl.agents import dqn
  config = env_config(env)
  cfg, n = config.agent, config.env.num_envs
  pool = envs.make_pool(config.env, 0)
  spec = envs.make_spec(config.env, pool)
  net = dqn.make_network(cfg, spec)
  params = net.init(jax.random.PRNGKey(0), spec.zero_obs(1))
  target = params
  optimiser = networks.make_optimiser(cfg.learning_rate, cfg.max_grad_norm, cfg.adam_eps)
  opt_state = optimiser.init(params)
  as_obs = (lambda o: o) if spec.kind == "atari" else (
      lambda o: dict(image=o["image"], direction=o["direction"].astype(np.int32)))

  @jax.jit
  def update(params, target, opt_state, batch):
    grads = jax.grad(lambda p: losses.double_dqn_loss(net.apply, p, target, batch,
                                                      cfg.huber_delta)[0])(params)
    updates, opt_state = optimiser.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  act = jax.jit(lambda p, o: jnp.argmax(net.apply(p, o), -1))
  capacity = min(replay_size or cfg.replay_size, cfg.replay_size)
  obs, _ = pool.reset()
  leaves = jax.tree.map(lambda x: np.zeros((capacity, *x.shape[1:]), x.dtype), as_obs(obs))
  store = dict(obs=leaves, next_obs=jax.tree.map(np.copy, leaves),
               action=np.zeros(capacity, np.int32), reward=np.zeros(capacity, np.float32),
               done=np.zeros(capacity, np.float32))
  rng = np.random.default_rng(0)
  size, ptr, compile_s, num_updates = 0, 0, None, 0
  t0 = time.time()
  for it in range(steps // n):
    epsilon = max(cfg.epsilon_end, 1.0 - it * n / cfg.epsilon_decay_steps)
    greedy = np.asarray(act(params, as_obs(obs)))
    actions = np.where(rng.random(n) < epsilon, rng.integers(0, spec.num_actions, n), greedy)
    next_obs, reward, term, trunc, _ = pool.step(actions.astype(np.int32))
    idx = (ptr + np.arange(n)) % capacity
    for key, value in (("obs", as_obs(obs)), ("next_obs", as_obs(next_obs))):
      jax.tree.map(lambda buf, v: buf.__setitem__(idx, v), store[key], value)
    store["action"][idx], store["reward"][idx], store["done"][idx] = actions, reward, term
    ptr, size, obs = (ptr + n) % capacity, min(size + n, capacity), next_obs
    if size >= cfg.batch_size:
      for _ in range(cfg.updates_per_train):
        i = rng.integers(0, size, cfg.batch_size)
        batch = replay.Transition(
            obs_tm1=jax.tree.map(lambda b: b[i], store["obs"]), a_tm1=store["action"][i],
            r_t=store["reward"][i], discount_t=cfg.gamma * (1.0 - store["done"][i]),
            obs_t=jax.tree.map(lambda b: b[i], store["next_obs"]),
            valid=np.ones(cfg.batch_size, np.float32))
        t_update = time.time()
        params, opt_state = update(params, target, opt_state, batch)
        num_updates += 1
        if compile_s is None:
          jax.block_until_ready(params)
          compile_s = time.time() - t_update
          t0, start_it = time.time(), it + 1  # time the steady state only
        if num_updates % cfg.target_update_every == 0:
          target = params
  jax.block_until_ready(params)
  return {"sps": (steps // n - start_it) * n / (time.time() - t0), "compile_s": compile_s,
          "updates": num_updates}


def worker(args) -> None:
  kind, env = args.measure.split("/")[:2]
  steps = args.atari_steps if env == "atari" else args.minigrid_steps
  replay_size = args.atari_replay if env == "atari" else 0
  if kind == "raw":
    out = measure_raw(env, steps * (2 if env == "atari" else 8))
  elif kind == "loop":
    out = measure_loop(env, args.measure.split("/")[2], steps, replay_size, args.rollout)
  elif kind == "parts":
    out = step_parts.measure(args.measure.split("/")[2], env, args.parts_iterations,
                             args.parts_reps, replay_size)
  else:
    out = measure_reference(env, steps, replay_size)
  print("RESULT " + json.dumps({**out, **peak_memory()}), flush=True)


def run_one(name: str, args) -> dict:
  cmd = [sys.executable, os.path.abspath(__file__), "--measure", name,
         "--minigrid_steps", str(args.minigrid_steps), "--atari_steps", str(args.atari_steps),
         "--atari_replay", str(args.atari_replay), "--rollout", args.rollout,
         "--parts_iterations", str(args.parts_iterations), "--parts_reps", str(args.parts_reps)]
  try:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          timeout=args.timeout or None)
  except subprocess.TimeoutExpired:
    print(f"  {name} took over --timeout={args.timeout} s; skipped", file=sys.stderr, flush=True)
    return {"error": f"timeout after {args.timeout} s"}
  lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
  if proc.returncode != 0 or not lines:
    tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
    print(f"  {name} FAILED (exit {proc.returncode}):\n{tail}", file=sys.stderr, flush=True)
    return {"error": tail}
  return json.loads(lines[-1][len("RESULT "):])


def table(results: dict) -> str:
  head = (f"{'env':<9} {'measurement':<22} {'env steps/s':>11} {'/ raw':>7} {'/ ref':>7} "
          f"{'compile s':>9} {'host MB':>8} {'dev MB':>8} {'rooms':>5}")
  lines = [head, "-" * len(head)]
  for env, rows in results["envs"].items():
    raw, ref = rows.get("raw", {}).get("sps"), rows.get("reference", {}).get("sps")
    for name, r in rows.items():
      if name.startswith("parts/"):
        continue
      if "error" in r:
        lines.append(f"{env:<9} {name:<22} {'failed':>11}")
        continue
      ratio = lambda base: f"{r['sps'] / base:.3f}" if base and name.startswith("loop") else ""
      dev = f"{r['peak_device_mb']:.0f}" if "peak_device_mb" in r else "-"
      lines.append(f"{env:<9} {name:<22} {r['sps']:>11,.0f} {ratio(raw):>7} {ratio(ref):>7} "
                   f"{r['compile_s']:>9.1f} {r['peak_host_mb']:>8.0f} {dev:>8} "
                   f"{r.get('rooms', ''):>5}")
  for env, rows in results["envs"].items():
    parts = [r for name, r in rows.items() if name.startswith("parts/") and "error" not in r]
    if parts:
      ref = rows.get("reference", {}).get("sps")
      lines += ["", f"{env}: " + step_parts.table(parts)]
      if ref:
        lines.append("loop sps / reference sps: " + ", ".join(
            f"{r['agent']} {r['loop_sps'] / ref:.2f}" for r in parts))
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--envs", default="minigrid,atari")
  parser.add_argument("--agents", default=",".join(AGENTS), help="agents measured on MiniGrid")
  parser.add_argument("--atari_agents", default="dqn,rnd_dqn",
                      help="agents measured on Atari ('all' = every agent). The latent agents' "
                      "Atari autoencoder takes a large part of a second per update on a CPU: "
                      "measure them on a GPU (benchmarks/gpu_session.sh passes all)")
  parser.add_argument("--minigrid_steps", type=int, default=32_000,
                      help="env steps of each MiniGrid loop / reference run (raw: 8x)")
  parser.add_argument("--atari_steps", type=int, default=512,
                      help="env steps of each Atari loop / reference run (raw: 2x); on CPU an "
                      "Atari update takes ~0.2-2 s, so keep this small there")
  parser.add_argument("--atari_replay", type=int, default=16_384,
                      help="Atari replay_size (and encoder stream cap); 0 = the config's 1M")
  parser.add_argument("--rollout", default="xla", choices=("xla", "host"),
                      help="env.rollout of the loop runs (host: where envpool's xla() fails)")
  parser.add_argument("--parts_envs", default="minigrid",
                      help="envs whose agents also get the profile of one loop iteration "
                      "(benchmarks/step_parts.py); '' = none")
  parser.add_argument("--parts_iterations", type=int, default=256)
  parser.add_argument("--parts_reps", type=int, default=5)
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                    "throughput.json"))
  parser.add_argument("--timeout", type=float, default=0,
                      help="seconds one measurement may take before it is skipped (0 = no limit)")
  parser.add_argument("--measure", help=argparse.SUPPRESS)  # worker mode
  args = parser.parse_args()
  if args.measure:
    return worker(args)
  envs = args.envs.split(",")
  agents = {"minigrid": args.agents.split(","),
            "atari": list(AGENTS) if args.atari_agents == "all" else args.atari_agents.split(",")}
  bad = [e for e in envs if e not in ("minigrid", "atari")] + [
      a for names in agents.values() for a in names if a not in AGENTS]
  if bad:
    sys.exit(f"error: unknown {bad}: --envs takes minigrid,atari and --agents / --atari_agents "
             f"{','.join(AGENTS)}")
  # No jax here: on a GPU the parent would hold the device memory its workers need.
  from goalrl import metrics
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  results = {"device": None, "cpus": os.cpu_count(), "args": {k: v for k, v in vars(args).items() if k != "measure"},
             "envs": {}}
  for env in envs:
    parts = [f"parts/{a}" for a in agents[env]] if env in args.parts_envs.split(",") else []
    for name in ["raw", "reference"] + [f"loop/{a}" for a in agents[env]] + parts:
      print(f"measuring {env} {name} ...", file=sys.stderr, flush=True)
      t0 = time.time()
      results["envs"].setdefault(env, {})[name] = run_one(f"{name.split('/')[0]}/{env}/"
                                                         f"{name.split('/')[-1]}", args)
      results["envs"][env][name]["wall_s"] = time.time() - t0
      results["device"] = results["device"] or results["envs"][env][name].get("device")
      results["table"] = text = table(results)
      metrics.write_json(args.out, results)  # after every measurement: a killed run keeps them
  print(f"\n{results['device']} ({results['cpus']} CPUs)\n{text}\nwritten to {args.out}")


if __name__ == "__main__":
  main()
