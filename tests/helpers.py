"""What several test modules share: paths, configs, the real CLI, metric rows, env samples.

Test modules import from here (never from each other). The expensive shared objects (one CLI run
of each agent's ``:quick`` config that many tests only read) are session fixtures in
``conftest.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from goalrl import config as config_lib, envs, metrics, sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = ("dqn", "optimistic_dqn", "goal_agent", "rnd_dqn")


def group(agent: str) -> str:
  """The xdist group of the tests that read ``agent``'s session runs (see conftest.py)."""
  return f"quick_{agent}"


def for_agents(*agents: str) -> list:
  """``parametrize`` values for agents, each in its agent's xdist group."""
  return [pytest.param(a, marks=pytest.mark.xdist_group(group(a))) for a in agents]


def load_experiment(name: str, variant: str, pictures: bool = False):
  """``experiments/<name>.py:<variant>`` as an unlocked ConfigDict, with ``pictures`` off unless
  asked: they cost ~1 s a run, the numbers do not depend on them (a run may resume with them
  switched), and the session's CLI runs (``quick_run``) draw them for the tests that read them."""
  config = config_lib.load_experiment(os.path.join(ROOT, "experiments", f"{name}.py"), variant)
  config.pictures = pictures
  return config


# XLA flags of every test process and CLI subprocess (see conftest.py), unless XLA_FLAGS sets them.
SUITE_XLA_FLAGS = {"xla_backend_optimization_level": "1", "xla_cpu_use_fusion_emitters": "false"}


def suite_xla_flags(flags: str) -> str:
  """``flags`` (an ``XLA_FLAGS`` value) with each of ``SUITE_XLA_FLAGS`` it does not set."""
  extra = [f"--{k}={v}" for k, v in SUITE_XLA_FLAGS.items() if k not in flags]
  return " ".join([flags.strip(), *extra]).strip()


# The session runs' scale (conftest's ``quick_run`` and ``seed1_run``, test_train's runs beside
# them): ``:quick`` at about half its length, 2,048 env steps, rows every 512 (a multiple of its 8
# envs), checkpoints at 1,024 and 2,048, updates from step 256.
QUICK_RUN = {"total_steps": 2_048, "log_every": 512, "checkpoint_every": 1_024,
             "agent.learning_starts": 256}


def quick_config(agent: str):
  """``experiments/<agent>.py:quick`` at the session runs' scale (``QUICK_RUN``)."""
  config = load_experiment(agent, "quick")
  sweep.apply(config, QUICK_RUN)  # dotted keys, as a sweep's overrides
  return config


def quick_flags() -> list[str]:
  """``QUICK_RUN`` as CLI flags."""
  return [f"--config.{k}={v}" for k, v in QUICK_RUN.items()]


def forced_devices(n: int) -> dict:
  """The environment of a subprocess whose jax sees ``n`` CPU devices (the suite's other XLA
  flags kept)."""
  flags = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split()
                   if "xla_force_host_platform_device_count" not in f)
  return {**os.environ, "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={n}".strip()}


def cli(workdir, config: str, *overrides: str, env: dict | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
  """``python -m goalrl.train --config=CONFIG --workdir=WORKDIR OVERRIDES...`` from the repo
  root."""
  cmd = [sys.executable, "-m", "goalrl.train", f"--config={config}", f"--workdir={workdir}",
         *overrides]
  return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def rows(path) -> list[dict]:
  """A workdir's (or a metrics file's) rows without the ``perf/`` timings, which always differ."""
  path = str(path)
  if os.path.isdir(path):
    path = os.path.join(path, "metrics.jsonl")
  return [{k: v for k, v in r.items() if not k.startswith("perf/")}
          for r in metrics.read_rows(path)]


def halfway_copy(workdir, dest, last_step: int):
  """A copy of a finished run as if killed after logging its last rows but before their
  checkpoint: checkpoint ``last_step`` is gone, the rows after the newest checkpoint left are
  stale (marked ``episode_return = -1``, so keeping one shows) and each metrics file ends in a
  torn line. Resuming it must drop both and redo those rows exactly."""
  shutil.copytree(workdir, dest)
  checkpoints = os.path.join(dest, "checkpoints")
  shutil.rmtree(os.path.join(checkpoints, str(last_step)))
  resume_step = max(int(p) for p in os.listdir(checkpoints) if p.isdigit())
  seeds = os.path.join(dest, "seeds")
  dirs = [os.path.join(seeds, s) for s in os.listdir(seeds)] if os.path.isdir(seeds) else [dest]
  for d in dirs:
    path = os.path.join(d, "metrics.jsonl")
    stale = [{**r, "episode_return": -1.0} if r["step"] > resume_step else r
             for r in metrics.read_rows(path)]
    with open(path, "w") as f:
      f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in stale)
      f.write('{"step": 40')
  return dest


def minigrid_pool(name: str, num_envs: int = 4, max_episode_steps: int = 0, seed: int = 0,
                  repeat_action_probability: float = 0.25, actions: str = ""):
  """A small envpool pool and its spec, stepped on the host."""
  cfg = ml_collections.ConfigDict(dict(name=name, num_envs=num_envs, num_threads=1,
                                       max_episode_steps=max_episode_steps,
                                       repeat_action_probability=repeat_action_probability,
                                       reward_clip=True, actions=actions))
  pool = envs.make_pool(cfg, seed=seed)
  return pool, envs.make_spec(cfg, pool)


def minigrid_obs(n: int = 256):
  """``n`` DoorKey-5x5 observations of a random walk (forward/turn actions) and their spec."""
  pool, spec = minigrid_pool("MiniGrid-DoorKey-5x5-v0", num_envs=16,
                             repeat_action_probability=0.0)
  rng = np.random.default_rng(0)
  out, images, dirs = envs.host_reset(spec, pool), [], []
  for _ in range(n // 16):
    images.append(out["fields"]["image"])
    dirs.append(out["fields"]["direction"])
    out = envs.host_step(spec, pool, rng.integers(0, 3, 16))
  return spec, dict(image=jnp.asarray(np.concatenate(images)),
                    direction=jnp.asarray(np.concatenate(dirs), jnp.int32))
