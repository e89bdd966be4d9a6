"""The training driver: build a run, resume it from its workdir, and run it chunk by chunk.

``train(config, workdir)`` = :func:`build` (validate, devices, workdir checks, env pools, spec,
agent, initial state, checkpoint manager) -> :func:`resume` (the latest readable checkpoint, with
the envs rebuilt by replaying the logged actions) -> :func:`compile_chunk` (the compiled loop
chunk, envpool's XLA step inside it or host stepping) -> :func:`run_chunks` (one chunk per log
interval: health check, metrics rows, pictures, checkpoints, a clean stop on SIGINT/SIGTERM).
``goalrl.train`` is the command line around it.

One chunk = ``log_every`` env steps in one compiled call. Checkpoints hold the whole loop state
and the action log, and a resumed run gives the same ``metrics.jsonl`` as one that never stopped;
only ``RESUMABLE_CHANGES`` may differ between the two.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from typing import Any, Callable, NamedTuple

import jax
import numpy as np

from goalrl import checkpoint, envs, grow, loop, metrics, parallel, pictures
from goalrl.agents import make_agent
from goalrl.config import ConfigError, validate


class NonFiniteError(RuntimeError):
  """A loss or the agent's state became NaN/Inf; the run stopped before checkpointing it."""


class Interrupted(RuntimeError):
  """SIGINT/SIGTERM arrived; a checkpoint of the last complete chunk was saved."""


# Keys that may differ between a run and its resumption: they do not change the numbers. The
# variant is a name: every value it set is compared on its own key (goal_agent.py's ``minigrid``
# of before 2026-12-01 is ``archive`` since, and runs begun under the one resume under the other).
RESUMABLE_CHANGES = ("total_steps", "env.rollout", "env.num_threads", "pictures", "variant")
# Keys that came into the config after runs had started: the value that does what the code before
# them did. A run's config.json without the key had that value.
ADDED_KEYS = {"pictures": True, "env.actions": "", "agent.rnd.form": "bonus",
              "agent.rnd.gamma": 0.99, "agent.rnd.extrinsic_coef": 2.0,
              "agent.rnd.intrinsic_coef": 1.0, "agent.encoder.train_every": 1,
              "agent.optimism.action_coef": 0.0, "agent.optimism.bootstrap_coef": 0.0,
              "agent.optimism.count_power": 2.0, "agent.optimism.hash_bits": 16,
              "agent.goal_q_bootstrap": "first", "agent.archive_bits": 16,
              "agent.archive_power": 0.5, "agent.goal_novelty_coef": 0.0,
              "agent.abandon_on_q": True, "agent.actor_env_reward": 0.0,
              "agent.goal_ablation": "none", "agent.goal_q_her": 0.0,
              "agent.goal_reach_steps": 0, "agent.archive_scope": "run",
              "agent.actor_input": "latent", "agent.hidden": 256,
              "agent.exploit_fraction": 0.0, "agent.task_fraction": 0.0,
              "agent.q_input": "latent", "agent.optimism.counts": "observation",
              "env.oracle_position": False, "agent.optimism.episode_coef": 0.0,
              "agent.optimism.episode_global": False, "agent.optimism.episode_bits": 14,
              "agent.optimism.episode_novelty": "count", "agent.optimism.noveld_alpha": 0.5,
              "agent.optimism.noveld_coef": 0.0,
              "agent.actor_n_step": 1}


def _flatten(d: dict, prefix: str = "") -> dict:
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(_flatten(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = v
  return out


def check_workdir_config(config, workdir: str, overwrite: bool = False) -> None:
  """Writes ``config.json``, or checks that a resumed run uses the same config.

  A workdir holding a run of another config is refused, naming the differences, unless
  ``overwrite``: then that run is deleted and a new one starts. A key of ``ADDED_KEYS`` that a
  run's config lacks had the value listed there.
  """
  path = os.path.join(workdir, "config.json")
  resolved = json.loads(config.to_json_best_effort())
  if os.path.exists(path):
    with open(path) as f:
      old = _flatten(json.load(f))
    new = _flatten(resolved)
    old = {**{k: v for k, v in ADDED_KEYS.items() if k in new}, **old}
    changed = sorted(k for k in set(old) | set(new)
                     if old.get(k) != new.get(k) and k not in RESUMABLE_CHANGES)
    if changed and overwrite:
      shutil.rmtree(workdir)
    elif changed:
      diffs = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed)
      raise ConfigError(f"workdir {workdir!r} holds a run with a different config ({diffs}). "
                        f"Only {', '.join(RESUMABLE_CHANGES)} may change on resume; use a new "
                        "--workdir for a different experiment, or --overwrite to replace it.")
  os.makedirs(workdir, exist_ok=True)
  metrics.write_json(path, resolved)


def check_device_layout(workdir: str, num_shards: int) -> None:
  """A run's checkpoints hold one shard per device: resuming needs the same number of devices
  (``parallel.devices`` = 0 resolves to however many this machine has)."""
  path = os.path.join(workdir, "devices.json")
  if os.path.exists(path):
    with open(path) as f:
      before = json.load(f)["devices"]
    if before != num_shards:
      raise ConfigError(
          f"workdir {workdir!r} holds a run on {before} device(s) (over all processes), but this "
          f"run has {num_shards}. Its checkpoints hold one env and replay shard per device, so "
          f"it resumes only on {before}: set --config.parallel.devices (and the process count) to "
          "match, or use a new --workdir.")
  metrics.write_json(path, {"devices": num_shards})


class Run(NamedTuple):
  """What :func:`build` makes: everything a run needs besides its state."""
  config: Any
  workdir: str
  spec: envs.EnvSpec
  agent: Any  # goalrl.agents.base.Agent
  pools: list  # this process's envpool pools, one per local device
  make_pools: Callable[[], list]  # fresh pools, reset from the seed
  mesh: Any
  local_devices: int
  manager: Any  # orbax CheckpointManager


def build(config, workdir: str, overwrite: bool = False):
  """Validates ``config``, checks the workdir (its config, its device count) and builds the
  envs, agent and step-0 state. Returns ``(Run, state)``."""
  validate(config)
  local_devices = parallel.local_device_count(config)
  parallel.check(config, local_devices, jax.process_count())
  num_shards = local_devices * jax.process_count()
  check_workdir_config(config, workdir, overwrite)
  check_device_layout(workdir, num_shards)

  num_seeds = config.num_seeds
  shards, mesh = parallel.shard_ids(local_devices), parallel.make_mesh(local_devices)
  make_pools = lambda: [envs.make_pool(config.env, config.seed, num_seeds, d, num_shards)
                        for d in shards]
  pools = make_pools()
  spec = envs.make_spec(config.env, pools[0], num_shards)
  agent = make_agent(parallel.per_device_agent(config.agent, num_shards), spec)
  state = loop.init_states(agent, spec, config.seed, num_seeds,
                           _stack([envs.host_reset(spec, p) for p in pools]), shards, mesh)
  run = Run(config=config, workdir=workdir, spec=spec, agent=agent, pools=pools,
            make_pools=make_pools, mesh=mesh, local_devices=local_devices,
            manager=checkpoint.make_manager(workdir, config.max_checkpoints))
  return run, state


def _stack(outs):
  return jax.tree.map(lambda *xs: np.stack(xs), *outs)


def resume(run: Run, state):
  """The latest readable checkpoint, if any, over the step-0 ``state``. Returns ``(run, state,
  action_log, start)``: on resume the pools are fresh ones that replayed the logged actions (and
  were checked to show the checkpointed observations). The action log is ``[env steps / all envs,
  local device, seeds * envs per device]``."""
  restored = checkpoint.restore(run.manager, jax.tree.map(  # this process's shards of the state
      lambda x: jax.ShapeDtypeStruct((run.local_devices, *x.shape[1:]), x.dtype), state))
  actions = np.zeros((0, run.local_devices, run.config.num_seeds * run.spec.num_envs), np.uint8)
  if restored is not None:
    _, local_state, actions = restored
    state = parallel.to_global(local_state, run.mesh)
    # The pools of build() were reset once already; fresh ones replay the whole history from seed.
    run = run._replace(pools=run.make_pools())
    for i, pool in enumerate(run.pools):
      _check_env_rebuilt(run.spec, jax.tree.map(lambda x: x[i], local_state),
                         envs.replay_actions(run.spec, pool, actions[:, i]))
  return run, state, actions, int(parallel.to_local(state.env_steps)[0, 0])


def compile_chunk(run: Run, state, progress: bool):
  """The loop chunk of ``log_every`` env steps. Returns ``(chunk, env handle, compile seconds)``:
  with ``env.rollout="xla"``, envpool's step is inside the compiled chunk (compiled here, ahead of
  the first call, and timed); with ``"host"`` the envs step between compiled iterations (no handle,
  no separate compile time)."""
  config, spec, local_devices = run.config, run.spec, run.local_devices
  chunk_len = config.log_every // spec.steps_per_iteration
  rollout = config.env.rollout
  if rollout == "xla" and local_devices > 1:
    rollout = "host"  # see goalrl/envs.py: envpool's XLA step is not safe on two devices at once
    if progress:
      print(f"note: env.rollout='xla' steps the envs on the host with {local_devices} devices in "
            "one process (envpool's XLA step crashes when devices step at once); one process per "
            "device keeps it in the compiled loop.", file=sys.stderr)
  if rollout == "host":
    return (loop.make_host_chunk(run.agent, spec, run.pools, chunk_len, config.num_seeds,
                                 run.mesh), None, None)
  steps = [envs.make_xla_step(spec, pool) for pool in run.pools]
  handle = parallel.to_global(np.stack([h for h, _ in steps]), run.mesh)
  t0 = time.time()
  chunk = loop.make_xla_chunk(run.agent, spec, steps[0][1], chunk_len, config.num_seeds,
                              run.mesh).lower(state, handle).compile()
  return chunk, handle, time.time() - t0


def train(config, workdir: str, progress: bool = True, overwrite: bool = False):
  """Runs (or resumes) ``config`` in ``workdir`` to ``config.total_steps``.

  Returns the metrics rows: a list for one seed; ``{seed: rows}`` when ``config.num_seeds > 1``,
  whose outputs go to ``workdir/seeds/<seed>/`` (checkpoints and config stay at the top). Trains
  on ``config.parallel.devices`` local devices of every process (``goalrl.parallel``); with
  several processes only the first writes metrics and returns rows (the others return ``None``).
  """
  run, state = build(config, workdir, overwrite)
  run, state, actions, start = resume(run, state)
  if jax.process_index() == 0:
    checkpoint.record_code(workdir, start)
  chunk, handle, compile_seconds = compile_chunk(run, state, progress)
  return run_chunks(run, state, handle, chunk, actions, start, compile_seconds, progress)


def run_chunks(run: Run, state, handle, chunk, actions, start: int, compile_seconds, progress: bool):
  """Chunk after chunk from env step ``start`` to ``total_steps``: the returns of :func:`train`."""
  from tqdm import tqdm
  config, spec, workdir, manager = run.config, run.spec, run.workdir, run.manager
  num_seeds = config.num_seeds
  action_log = [actions]
  seeds = [config.seed + i for i in range(num_seeds)]
  seed_dirs = [workdir] if num_seeds == 1 else [os.path.join(workdir, "seeds", str(s))
                                                for s in seeds]
  # Every process computes the same rows (reduced over all devices); the first one writes them.
  writes = jax.process_index() == 0
  for d in seed_dirs:
    os.makedirs(d, exist_ok=True)
  loggers = [metrics.Logger(d, start, grow.events_between) for d in seed_dirs] if writes else []
  bar = tqdm(total=config.total_steps, initial=start, unit="step", unit_scale=True,
             disable=not (progress and writes), dynamic_ncols=True, file=sys.stderr)
  env_steps = start
  snapshot = loop.make_snapshot(run.agent, run.mesh)
  try:
    with stop_signals() as stop_signal:
      while env_steps < config.total_steps:
        t0 = time.time()
        state, handle, actions, row = chunk(state, handle)
        row = jax.tree.map(lambda x: x[0], parallel.to_local(row))  # the same on every device
        seconds = time.time() - t0
        _check_health(row.pop("_health"), env_steps, spec.steps_per_iteration, manager)
        env_steps = int(parallel.to_local(state.env_steps)[0, 0])
        action_log.append(np.swapaxes(parallel.to_local(actions), 0, 1))
        perf = {"perf/sps": config.log_every * num_seeds / seconds, "perf/chunk_seconds": seconds}
        if compile_seconds is not None:
          perf["perf/compile_seconds"] = compile_seconds
          compile_seconds = None
        for i, logger in enumerate(loggers):
          events = logger.write({"step": env_steps, **{k: v[i] for k, v in row.items()}, **perf})
          for ev in events if progress else ():
            tqdm.write(f"seed {seeds[i]}: {grow.describe(ev)}", file=sys.stderr)
        if config.pictures:
          counts, panels = jax.device_get(snapshot(state))  # every process: one SPMD program
          for i, (d, logger) in enumerate(zip(seed_dirs, loggers)):
            pictures.write(spec, d, logger, counts[i],
                           None if panels is None else jax.tree.map(lambda x: x[i], panels),
                           env_steps, f"{config.agent.name} on {config.env.name} (seed {seeds[i]})")
        bar.update(config.log_every)
        shown = {k: np.asarray(row[k], float) for k in ("episode_return", "success_rate",
                                                         "coverage") if k in row}
        bar.set_postfix({k: f"{v[np.isfinite(v)].mean():.3g}" for k, v in shown.items()
                         if np.isfinite(v).any()})
        if (env_steps % config.checkpoint_every == 0 or env_steps >= config.total_steps
            or stop_signal):
          action_log = [np.concatenate(action_log)]
          checkpoint.save(manager, env_steps, parallel.to_local(state), action_log[0])
        if stop_signal and env_steps < config.total_steps:
          raise Interrupted(f"stopped by signal {stop_signal[0]} at step {env_steps}; a "
                            "checkpoint of that step is saved. Run the same command again to "
                            "resume.")
  finally:
    bar.close()
    for logger in loggers:
      logger.close()
  manager.close()
  if not writes:
    return None

  all_rows = {}
  for seed, d, logger in zip(seeds, seed_dirs, loggers):
    all_rows[seed] = metrics.read_rows(logger.path)
    if config.pictures:
      metrics.plot_curves(all_rows[seed], os.path.join(d, "curves.png"),
                          f"{config.agent.name} on {config.env.name} (seed {seed})")
  return all_rows[config.seed] if num_seeds == 1 else all_rows


@contextlib.contextmanager
def stop_signals():
  """SIGINT (Ctrl-C) and SIGTERM (preemption) end the run after the current chunk, with a
  checkpoint: the chunk owns the (donated) state while it runs, so stopping mid-chunk would lose
  it. Yields a list that holds the signal number once one arrived; the previous handlers are back
  on exit. Outside the main thread (where Python allows no handlers) it catches nothing."""
  import signal
  import threading
  received: list = []
  saved = {}
  if threading.current_thread() is threading.main_thread():
    for sig in (signal.SIGINT, signal.SIGTERM):
      saved[sig] = signal.signal(sig, lambda signum, _: received.append(signum))
  try:
    yield received
  finally:
    for sig, handler in saved.items():
      signal.signal(sig, handler)


def _check_health(health: dict, start: int, steps_per_iteration: int, manager) -> None:
  """Stops the run, before anything of the bad chunk is logged or saved, on NaN/Inf (any seed)."""
  bad = [k for k, v in health["bad_metrics"].items() if np.any(v)]
  if not bad and np.all(health["state_finite"]):
    return
  first = np.asarray(health["first_bad_iteration"])
  first = int(first[first >= 0].min()) if np.any(first >= 0) else -1
  last = manager.latest_step()
  where = (f"at env step {start + (first + 1) * steps_per_iteration}" if bad
           else f"in the chunk after env step {start}")
  what = (f"non-finite {', '.join(bad)}" if bad else "a non-finite value in the agent's state "
          "(parameters, optimiser or replay)")
  raise NonFiniteError(
      f"{what} {where}. The run stopped without logging or saving that chunk; the last good "
      f"checkpoint is {'step ' + str(last) if last is not None else 'none (none was saved yet)'}. "
      "Rerunning the same command would repeat it exactly: lower agent.learning_rate or "
      "agent.max_grad_norm, or inspect with --debug.")


def _check_env_rebuilt(spec, state, out) -> None:
  """The rebuilt envs must show exactly the observation the checkpoint holds."""
  saved = loop.merge_seeds(state.timestep)
  ts, _ = envs.to_timestep(spec, out["fields"], out["reward"], out["terminated"],
                           out["truncated"], saved.first)
  same = jax.tree.map(lambda a, b: bool(np.array_equal(np.asarray(a), np.asarray(b))),
                      ts.obs, saved.obs)
  if not all(jax.tree.leaves(same)):
    raise RuntimeError("Resuming failed: replaying the logged actions into a fresh env pool did not "
                       "reproduce the checkpointed observation, so the envs are not deterministic "
                       "here (different envpool version?). Start a new --workdir.")


