"""Command line: train an agent from an ml-collections config, resuming from ``--workdir``.

  python -m goalrl.train --config=experiments/dqn.py:minigrid --workdir=runs/x \
      --config.seed=3 --config.env.name=MiniGrid-DoorKey-5x5-v0

Several hosts: run the same command on each, adding ``--coordinator=HOST0:PORT
--num_processes=P --process_id=i`` (or the ``JAX_*`` environment variables); see ``goalrl.parallel``.

The config is validated once, before any env is built or anything compiles. The run then goes
chunk by chunk (one chunk = ``log_every`` env steps in one compiled call), writing a metrics row
after each and a checkpoint every ``checkpoint_every`` steps. Running the same command again with
the same workdir resumes from the latest checkpoint and gives the same ``metrics.jsonl`` as a run
that never stopped; only ``total_steps``, ``env.rollout`` and ``env.num_threads`` may change
between the two.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
import traceback
from typing import NamedTuple, Sequence

import ml_collections
from absl import app, flags, logging
from ml_collections import config_flags

from goalrl import metrics
from goalrl.config import ConfigError, validate


def define_flags(flag_values: flags.FlagValues, argv: Sequence[str]) -> None:
  """The command line's flags, defined on ``flag_values`` (a fresh set per parse, see
  :func:`parse_config`, so parsing is a pure function that tests can call in-process).
  ml-collections reads the ``--config.KEY`` overrides from ``argv`` (by default: sys.argv)."""
  fv = dict(flag_values=flag_values)
  config_flags.DEFINE_config_file("config", None, "Experiment config file, e.g. "
                                  "experiments/dqn.py:minigrid.", lock_config=True,
                                  sys_argv=list(argv), **fv)
  flags.DEFINE_string("workdir", None, "Directory for logs, checkpoints and plots.", **fv)
  flags.DEFINE_bool("overwrite", False, "Replace a run of a different config in --workdir "
                    "instead of refusing to touch it.", **fv)
  flags.DEFINE_bool("debug", False, "Show tracebacks for config and workdir errors.", **fv)
  flags.DEFINE_string("coordinator", None, "Multi-host: host:port of process 0, for "
                      "jax.distributed (default: $JAX_COORDINATOR_ADDRESS; unset = one process).",
                      **fv)
  flags.DEFINE_integer("num_processes", None, "Multi-host: number of processes (default: "
                       "$JAX_NUM_PROCESSES).", **fv)
  flags.DEFINE_integer("process_id", None, "Multi-host: this process's index (default: "
                       "$JAX_PROCESS_ID).", **fv)
  flags.mark_flags_as_required(["config", "workdir"], **fv)


class Command(NamedTuple):
  """A parsed, validated command line."""
  config: ml_collections.ConfigDict
  workdir: str
  overwrite: bool
  debug: bool
  coordinator: str | None
  num_processes: int | None
  process_id: int | None


def parse_config(argv: Sequence[str]) -> Command:
  """``argv`` (program name first) -> the validated config and the run's options.

  Flags, ``--config=FILE:VARIANT`` loading, ``--config.KEY=VALUE`` overrides and
  :func:`goalrl.config.validate` in one pass: every bad input raises :class:`ConfigError` with one
  paragraph naming the bad value and what is allowed. Nothing is built, compiled or written, and no
  global flag state is touched, so the CLI and the bad-input tests call exactly this.
  """
  fv = flags.FlagValues()
  define_flags(fv, argv)
  try:
    fv(list(argv))
    config = fv["config"].value
    config.get("seed")  # ml-collections loads the file lazily: a missing or broken one fails here
  except flags.Error as err:
    raise ConfigError(f"{one_paragraph(err)} (fix the value or the flag name; --helpfull lists "
                      "the flags)") from err
  except (AttributeError, KeyError) as err:
    overrides = [a for a in argv if a.startswith("--config.")]
    raise ConfigError(
        f"the config has no key {str(err).strip(chr(34))} (overrides given: "
        f"{' '.join(overrides) or 'none'}). The keys a config has are set in its experiment "
        "file's get_config().") from err
  except OSError as err:
    raise ConfigError(f"could not load --config: {one_paragraph(err)}") from err
  except (ValueError, TypeError) as err:
    raise ConfigError(f"could not load the config: {one_paragraph(err)}") from err
  validate(config)
  return Command(config, fv["workdir"].value, fv["overwrite"].value, fv["debug"].value,
                 fv["coordinator"].value, fv["num_processes"].value, fv["process_id"].value)


class NonFiniteError(RuntimeError):
  """A loss or the agent's state became NaN/Inf; the run stopped before checkpointing it."""


class Interrupted(RuntimeError):
  """SIGINT/SIGTERM arrived; a checkpoint of the last complete chunk was saved."""


# Keys that may differ between a run and its resumption: they do not change the numbers.
RESUMABLE_CHANGES = ("total_steps", "env.rollout", "env.num_threads")


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
  ``overwrite``: then that run is deleted and a new one starts.
  """
  path = os.path.join(workdir, "config.json")
  resolved = json.loads(config.to_json_best_effort())
  if os.path.exists(path):
    with open(path) as f:
      old = _flatten(json.load(f))
    new = _flatten(resolved)
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


def train(config, workdir: str, progress: bool = True, overwrite: bool = False):
  """Runs (or resumes) ``config`` in ``workdir`` to ``config.total_steps``.

  Returns the metrics rows: a list for one seed; ``{seed: rows}`` when ``config.num_seeds > 1``,
  whose outputs go to ``workdir/seeds/<seed>/`` (checkpoints and config stay at the top). Trains
  on ``config.parallel.devices`` local devices of every process (``goalrl.parallel``); with
  several processes only the first writes metrics and returns rows (the others return ``None``).
  """
  validate(config)
  import jax
  import numpy as np
  from tqdm import tqdm

  from goalrl import checkpoint, envs, grow, loop, parallel, pictures
  from goalrl.agents import make_agent

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
  stack = lambda outs: jax.tree.map(lambda *xs: np.stack(xs), *outs)
  state = loop.init_states(agent, spec, config.seed, num_seeds,
                           stack([envs.host_reset(spec, p) for p in pools]), shards, mesh)
  manager = checkpoint.make_manager(workdir, config.max_checkpoints)
  restored = checkpoint.restore(manager, jax.tree.map(  # this process's shards of the state
      lambda x: jax.ShapeDtypeStruct((local_devices, *x.shape[1:]), x.dtype), state))
  # The action log, [env steps / all envs, local device, seeds * envs per device].
  action_log = [np.zeros((0, local_devices, num_seeds * spec.num_envs), np.uint8)]
  if restored is not None:
    _, local_state, actions = restored
    action_log = [actions]
    state = parallel.to_global(local_state, mesh)
    # The pools above were reset once already; fresh ones replay the whole history from seed.
    pools = make_pools()
    for i, pool in enumerate(pools):
      _check_env_rebuilt(spec, jax.tree.map(lambda x: x[i], local_state),
                         envs.replay_actions(spec, pool, actions[:, i]))
  start = int(parallel.to_local(state.env_steps)[0, 0])

  chunk_len = config.log_every // spec.steps_per_iteration
  compile_seconds = None
  rollout = config.env.rollout
  if rollout == "xla" and local_devices > 1:
    rollout = "host"  # see goalrl/envs.py: envpool's XLA step is not safe on two devices at once
    if progress:
      print(f"note: env.rollout='xla' steps the envs on the host with {local_devices} devices in "
            "one process (envpool's XLA step crashes when devices step at once); one process per "
            "device keeps it in the compiled loop.", file=sys.stderr)
  if rollout == "xla":
    steps = [envs.make_xla_step(spec, pool) for pool in pools]
    handle = parallel.to_global(np.stack([h for h, _ in steps]), mesh)
    t0 = time.time()
    chunk = loop.make_xla_chunk(agent, spec, steps[0][1], chunk_len, num_seeds, mesh).lower(
        state, handle).compile()
    compile_seconds = time.time() - t0
  else:
    handle = None
    chunk = loop.make_host_chunk(agent, spec, pools, chunk_len, num_seeds, mesh)

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
  snapshot = loop.make_snapshot(agent, mesh)
  stop_signal = _catch_stop_signals()
  try:
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
        raise Interrupted(f"stopped by signal {stop_signal[0]} at step {env_steps}; a checkpoint "
                          "of that step is saved. Run the same command again to resume.")
  finally:
    _restore_signal_handlers()
    bar.close()
    for logger in loggers:
      logger.close()
  manager.close()
  if not writes:
    return None

  all_rows = {}
  for seed, d, logger in zip(seeds, seed_dirs, loggers):
    all_rows[seed] = metrics.read_rows(logger.path)
    metrics.plot_curves(all_rows[seed], os.path.join(d, "curves.png"),
                        f"{config.agent.name} on {config.env.name} (seed {seed})")
  return all_rows[config.seed] if num_seeds == 1 else all_rows


_SAVED_HANDLERS: dict = {}


def _catch_stop_signals() -> list:
  """SIGINT (Ctrl-C) and SIGTERM (preemption) end the run after the current chunk, with a
  checkpoint: the chunk owns the (donated) state while it runs, so stopping mid-chunk would lose it.
  Returns a list that holds the signal number once one arrived."""
  import signal
  import threading
  received: list = []
  if threading.current_thread() is not threading.main_thread():
    return received
  for sig in (signal.SIGINT, signal.SIGTERM):
    _SAVED_HANDLERS[sig] = signal.signal(sig, lambda signum, _: received.append(signum))
  return received


def _restore_signal_handlers() -> None:
  import signal
  for sig, handler in _SAVED_HANDLERS.items():
    signal.signal(sig, handler)
  _SAVED_HANDLERS.clear()


def _check_health(health: dict, start: int, steps_per_iteration: int, manager) -> None:
  """Stops the run, before anything of the bad chunk is logged or saved, on NaN/Inf (any seed)."""
  import numpy as np
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
  import jax
  import numpy as np

  from goalrl import envs
  from goalrl import loop
  saved = loop.merge_seeds(state.timestep)
  ts, _ = envs.to_timestep(spec, out["fields"], out["reward"], out["terminated"],
                           out["truncated"], saved.first)
  same = jax.tree.map(lambda a, b: bool(np.array_equal(np.asarray(a), np.asarray(b))),
                      ts.obs, saved.obs)
  if not all(jax.tree.leaves(same)):
    raise RuntimeError("Resuming failed: replaying the logged actions into a fresh env pool did not "
                       "reproduce the checkpointed observation, so the envs are not deterministic "
                       "here (different envpool version?). Start a new --workdir.")


def one_paragraph(text: str) -> str:
  """A library's multi-line error (ml-collections embeds tracebacks) as one line of prose."""
  lines = [line.strip() for line in str(text).splitlines() if line.strip()]
  if any(line.startswith("Traceback") for line in lines):
    head = lines[:next(i for i, l in enumerate(lines) if l.startswith("Traceback"))]
    lines = head + lines[-1:]
  return " ".join(lines)


def fail(message: str, debug: bool) -> None:
  """Ends the program with one paragraph on stderr and exit code 2 (traceback with --debug)."""
  if debug:
    traceback.print_exc()
  print(f"error: {one_paragraph(message)}", file=sys.stderr)
  sys.exit(2)


def _flags_parser(argv) -> Command:
  """absl's ``flags_parser``: :func:`parse_config`, with a bad input ending the program (exit 2,
  one paragraph) before anything is built. absl's own flags are not taken."""
  if {"-h", "--help", "--helpfull"} & set(argv):
    fv = flags.FlagValues()
    define_flags(fv, argv)
    print("usage: python -m goalrl.train --config=FILE:VARIANT --workdir=DIR "
          "[--config.KEY=VALUE ...]\n\n" + fv.get_help())
    sys.exit(0)
  flags.FLAGS.mark_as_parsed()
  try:
    return parse_config(argv)
  except ConfigError as err:
    fail(str(err), "--debug" in argv)


def main(command: Command):
  logging.set_verbosity(logging.WARNING)  # orbax logs every save at INFO
  workdir = command.workdir
  try:
    from goalrl import parallel
    parallel.initialize_distributed(command.coordinator, command.num_processes,
                                    command.process_id)
    train(command.config, workdir, overwrite=command.overwrite)
  except ConfigError as err:
    fail(str(err), command.debug)
  except NonFiniteError as err:
    print(f"error: {err}", file=sys.stderr)
    sys.exit(3)
  except Interrupted as err:
    print(f"interrupted: {err}", file=sys.stderr)
    sys.exit(130)
  except OSError as err:
    fail(f"cannot write the run's outputs ({err.strerror}: {err.filename or workdir}). Check that "
         "--workdir is writable and its disk has space; rerunning the same command resumes from "
         "the last complete checkpoint.", command.debug)
  workdir = os.path.abspath(workdir)
  print(f"metrics:     {os.path.join(workdir, 'metrics.jsonl')}\n"
        f"tensorboard: tensorboard --logdir {os.path.join(workdir, 'tb')}\n"
        f"curves:      {os.path.join(workdir, 'curves.png')}\n"
        f"checkpoints: {os.path.join(workdir, 'checkpoints')}")


if __name__ == "__main__":
  app.run(main, flags_parser=_flags_parser)
