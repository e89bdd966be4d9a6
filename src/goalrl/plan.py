"""Memory planner: what one device must hold for a config, and the largest replay that fits.

  python -m goalrl.plan --config=experiments/goal_agent.py:atari [--memory_budget_gb=4]
      [--config.agent.replay_size=...]

The note's GPU held about 1e9 floats (4 GB), so replay and batch sizes must be planned against a
stated budget. Nothing is allocated to find out: the agent's whole state (parameters, target
networks, optimiser moments, replay streams, counters) comes from ``jax.eval_shape(agent.init)``,
so its bytes are exact, per top-level field of the agent's state. The activations are XLA's own
figure: the temporary buffers of one iteration of the training loop (act, replay add, updates),
from ``compiled.memory_analysis()`` of the compiled training chunk; on CPU that is what this machine's compiler plans, and a GPU
compiler's figure may differ somewhat. One device's env pool is made (for the action count and
the env step the chunk compiles around) and never stepped.

The largest replay: the state's bytes are affine in ``agent.replay_size`` (rows of one env step),
so two ``eval_shape`` calls give bytes per row and the fixed rest; the replay that fits is
``(budget - fixed - temporaries) / bytes per row``, rounded down to whole env-batch rows.
Everything is per device and covers all ``num_seeds`` seeds that device holds; with D devices each
holds ``replay_size / D`` rows (``goalrl.parallel``).
"""
from __future__ import annotations

import dataclasses
import sys

from absl import app, flags
from ml_collections import config_flags


def define_flags() -> None:
  """Only when run as a program: ``goalrl.train`` defines ``--config`` too, and both modules may
  be imported into one process (tests, notebooks)."""
  config_flags.DEFINE_config_file("config", None, "Experiment config file, e.g. "
                                  "experiments/dqn.py:atari.", lock_config=False)
  flags.DEFINE_float("memory_budget_gb", 4.0, "Device memory budget in GB (1e9 bytes); the "
                     "default is the note's 1e9 float32 values.")
  flags.DEFINE_integer("devices", 1, "Devices the run is split over (replay, envs and batch per "
                       "device divide by this).")
  flags.mark_flags_as_required(["config"])


@dataclasses.dataclass
class Plan:
  fields: dict[str, int]  # bytes of each top-level field of the agent state, all seeds
  temporaries: int  # XLA temp bytes of the larger of the compiled act / observe
  bytes_per_row: float  # agent-state bytes added by one more replay row (all seeds)
  replay_size: int  # rows per device in this plan

  @property
  def total(self) -> int:
    return sum(self.fields.values()) + self.temporaries

  def largest_replay(self, budget_bytes: float, row_multiple: int) -> int:
    fixed = self.total - self.bytes_per_row * self.replay_size
    rows = int((budget_bytes - fixed) // self.bytes_per_row) if self.bytes_per_row else 0
    return max(rows // row_multiple * row_multiple, 0)


def _nbytes(tree) -> int:
  import jax
  import numpy as np
  return int(sum(np.prod(x.shape) * np.dtype(x.dtype).itemsize for x in jax.tree.leaves(tree)))


def _state_shapes(agent_cfg, spec, num_seeds: int):
  import jax
  from goalrl.agents import make_agent
  agent = make_agent(agent_cfg, spec)
  init = lambda k: jax.vmap(agent.init)(jax.random.split(k, num_seeds))
  return agent, jax.eval_shape(init, jax.random.PRNGKey(0))


def make_plan(config, devices: int = 1, compile_temporaries: bool = True) -> Plan:
  """The per-device :class:`Plan` of ``config`` split over ``devices`` devices."""
  from goalrl import envs, parallel
  pool = envs.make_pool(config.env, 0, config.num_seeds, 0, devices)  # device 0's envs
  spec = envs.make_spec(config.env, pool, devices)
  agent_cfg = parallel.per_device_agent(config.agent, devices)
  agent, shapes = _state_shapes(agent_cfg, spec, config.num_seeds)
  fields = {}
  for f in dataclasses.fields(shapes):  # one level into nested states (the encoder's stream)
    value = getattr(shapes, f.name)
    if dataclasses.is_dataclass(value):
      fields.update({f"{f.name}.{g.name}": _nbytes(getattr(value, g.name))
                     for g in dataclasses.fields(value)})
    else:
      fields[f.name] = _nbytes(value)

  bigger = agent_cfg.copy_and_resolve_references()
  step = spec.num_envs * 64
  bigger.replay_size = agent_cfg.replay_size + step
  per_row = (_nbytes(_state_shapes(bigger, spec, config.num_seeds)[1]) - sum(fields.values())) / step

  temporaries = 0
  if compile_temporaries:
    temporaries = _temporaries(agent, spec, pool, config.num_seeds)
  return Plan(fields=fields, temporaries=temporaries, bytes_per_row=per_row,
              replay_size=agent_cfg.replay_size)


def _temporaries(agent, spec, pool, num_seeds: int) -> int:
  """XLA's temp bytes of the real compiled training chunk (one iteration: act, replay add, the
  updates, env step), with the state donated as ``goalrl.train`` does: what the device needs on
  top of the state. (Compiling ``observe`` alone would count a copy of the replay that XLA makes
  at the update ``cond`` outside the scanned, donated chunk.)"""
  import jax
  import numpy as np
  from goalrl import envs, loop, parallel
  reset = envs.host_reset(spec, pool)
  keys = jax.ShapeDtypeStruct((num_seeds, 2), np.uint32)
  one = jax.eval_shape(lambda k, out: jax.vmap(lambda kk, o: loop.init_state(agent, spec, kk, o))(
      k, loop.split_seeds(out, num_seeds)), keys, reset)
  handle, xla_step = envs.make_xla_step(spec, pool)
  with_device = lambda x: jax.ShapeDtypeStruct((1, *np.shape(x)), x.dtype)
  mesh = parallel.make_mesh(1)
  chunk = loop.make_xla_chunk(agent, spec, xla_step, 1, num_seeds, mesh)
  compiled = chunk.lower(jax.tree.map(with_device, one), with_device(handle)).compile()
  return int(getattr(compiled.memory_analysis(), "temp_size_in_bytes", 0) or 0)


def report(plan: Plan, config, budget_gb: float, devices: int) -> str:
  gb = lambda b: f"{b / 1e9:10.3f} GB"
  lines = [f"{config.agent.name} on {config.env.name}: per device ({devices} device(s), "
           f"{config.num_seeds} seed(s), agent.replay_size {plan.replay_size:,} rows here)"]
  small = 0
  for name, value in sorted(plan.fields.items(), key=lambda kv: -kv[1]):
    if value >= 1e6:
      lines.append(f"  state.{name:<24} {gb(value)}")
    else:
      small += value
  lines.append(f"  {'state: everything under 1 MB':<30} {gb(small)}")
  lines.append(f"  {'activations (XLA temp)':<30} {gb(plan.temporaries)}")
  lines.append(f"  {'total':<30} {gb(plan.total)}")
  budget = budget_gb * 1e9
  fits = "fits" if plan.total <= budget else "DOES NOT FIT"
  lines.append(f"  budget {budget_gb:g} GB: {fits}; one replay row costs "
               f"{plan.bytes_per_row:,.0f} B (all seeds)")
  largest = plan.largest_replay(budget, config.env.num_envs // devices)
  rest = plan.total - plan.bytes_per_row * plan.replay_size
  if largest:
    lines.append(f"  largest agent.replay_size that fits: {largest * devices:,} rows in all "
                 f"({largest:,} per device)")
  else:
    lines.append(f"  no agent replay fits: everything else already needs {rest / 1e9:.3f} GB "
                 "(shrink the encoder stream, batch or networks)")
  return "\n".join(lines)


def main(argv):
  del argv
  from absl import logging
  logging.set_verbosity(logging.WARNING)
  from goalrl.config import ConfigError, validate
  config, budget, devices = flags.FLAGS.config, flags.FLAGS.memory_budget_gb, flags.FLAGS.devices
  bad = ([f"--memory_budget_gb={budget:g} must be > 0 (GB of device memory)"]
         if budget <= 0 else []) + (
         [f"--devices={devices} must be >= 1"] if devices < 1 else [])
  if bad:
    print(f"error: {'; '.join(bad)}.", file=sys.stderr)
    sys.exit(2)
  try:
    with config.unlocked():
      config.memory_budget_gb = 0.0  # the planner reports the fit; it does not refuse
    validate(config)
  except ConfigError as err:
    print(f"error: {err}", file=sys.stderr)
    sys.exit(2)
  print(report(make_plan(config, devices), config, budget, devices))


if __name__ == "__main__":
  define_flags()
  app.run(main)
