"""Data-parallel training over devices and processes (``goalrl.parallel``), on CPU.

Each test runs in a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``: the
device count is fixed when jax starts, and this pytest process already has one device.
"""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT, cli, forced_devices, halfway_copy, rows

# Every test here runs subprocesses; one worker makes the shared two-device run.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("parallel")]

QUICK = ["--config.total_steps=2048", "--config.log_every=512", "--config.checkpoint_every=1024",
         "--config.agent.learning_starts=256", "--config.agent.epsilon_decay_steps=1000",
         "--config.pictures=False"]


def run_python(code: str, devices: int) -> str:
  proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=forced_devices(devices),
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc.stdout


def train_cli(workdir, devices: int, *overrides, config="experiments/optimistic_dqn.py:quick",
              env=None):
  return cli(workdir, config, *QUICK, *overrides, env=env or forced_devices(devices))


UPDATE_CODE = """
import jax, jax.numpy as jnp, numpy as np
from goalrl import config, losses, networks, parallel, replay
from goalrl.agents import dqn
from goalrl.envs import EnvSpec

assert jax.local_device_count() == 2
cfg = config.load_experiment("experiments/dqn.py", "quick").agent
spec = EnvSpec("MiniGrid-Empty-5x5-v0", "minigrid", 8, 7, (7, 7, 3), 1, 4096, 1, True)
net = dqn.make_network(cfg, spec)
opt = networks.make_optimiser(cfg.learning_rate, cfg.max_grad_norm, cfg.adam_eps)
rng = np.random.default_rng(0)
B = 64
obs = lambda: dict(image=jnp.asarray(rng.integers(0, 3, (B, 7, 7, 3)), jnp.uint8),
                   direction=jnp.asarray(rng.integers(0, 4, B), jnp.int32))
batch = replay.Transition(obs_tm1=obs(), a_tm1=jnp.asarray(rng.integers(0, 7, B), jnp.int32),
                          r_t=jnp.asarray(rng.random(B), jnp.float32),
                          discount_t=jnp.full(B, 0.97, jnp.float32), obs_t=obs(),
                          valid=jnp.ones(B, bool))
params = net.init(jax.random.PRNGKey(0), spec.zero_obs(1))
target = jax.tree.map(lambda x: x + 0.01, params)

def step(carry, batch):
  params, opt_state = carry
  grads = jax.grad(lambda p: losses.double_dqn_loss(net.apply, p, target, batch, 1.0)[0])(params)
  updates, opt_state = opt.update(grads, opt_state, params)
  return (networks.optax.apply_updates(params, updates), opt_state)

def train(params, batch, steps=5):
  carry = (params, opt.init(params))
  for _ in range(steps):
    carry = step(carry, batch)
  return carry[0]

one = jax.jit(train)(params, batch)
halves = jax.tree.map(lambda x: x.reshape(2, B // 2, *x.shape[1:]), batch)
mesh = parallel.make_mesh(2)
two = parallel.over_devices(lambda h: train(params, h), mesh)(parallel.to_global(halves, mesh))
moved = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(params)))
same_devices = max(float(jnp.max(jnp.abs(t[0] - t[1]))) for t in jax.tree.leaves(two))
diff = max(float(jnp.max(jnp.abs(a - t[0]))) for a, t in zip(jax.tree.leaves(one), jax.tree.leaves(two)))
print(moved, same_devices, diff)
"""


def test_two_device_update_equals_one_device_update_on_the_same_global_batch():
  """Five Adam steps of the DQN loss with the agents' optimiser: the global batch of 64 on one
  device vs 32 on each of two devices (gradients averaged by ``parallel.mean_gradients``)."""
  moved, same_devices, diff = map(float, run_python(UPDATE_CODE, 2).split())
  assert moved > 1e-3  # the parameters did move, so equality below is not trivial
  assert same_devices == 0.0  # both devices hold the same parameters
  assert diff < 1e-6  # stated tolerance: float reordering of the batch mean only


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory):
  """One CLI run of optimistic DQN on two devices in one process: ``(workdir, process)``."""
  workdir = tmp_path_factory.mktemp("two_devices") / "full"
  return workdir, train_cli(workdir, 2)


def test_two_devices_train_resume_and_refuse_another_layout(two_devices, tmp_path):
  """The real CLI on two devices: it trains (every device's envs count), a run stopped halfway and
  resumed equals the uninterrupted one, and resuming on a different device count is refused."""
  workdir, full = two_devices
  assert full.returncode == 0, full.stderr[-3000:]
  assert "steps the envs on the host" in full.stderr  # two devices in one process: host rollout
  done = rows(workdir)
  assert [r["step"] for r in done] == [512, 1024, 1536, 2048]
  assert done[-1]["episodes"] > 0 and done[-1]["updates"] > 0
  assert np.isfinite(done[-1]["loss"])
  half = halfway_copy(workdir, tmp_path / "half", 2048)
  resumed = train_cli(half, 2)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert rows(half) == done
  other = train_cli(tmp_path / "half", 1, "--config.total_steps=4096")
  assert other.returncode == 2 and "holds a run on 2 device(s)" in other.stderr, other.stderr


@pytest.mark.parametrize("overrides, message", [
    (["--config.parallel.devices=3"], "parallel.devices=3 but this process sees 2"),
    (["--config.agent.batch_size=33"],
     "agent.batch_size=33 must be divisible by the number of devices, 2"),
])
def test_bad_device_layouts_are_refused_before_anything_runs(tmp_path, overrides, message):
  proc = train_cli(tmp_path / "run", 2, *overrides)
  assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-2000:]
  assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
  assert not (tmp_path / "run").exists()


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def test_two_processes_train_together_like_two_devices_in_one(two_devices, tmp_path):
  """Two processes of one device each, joined by ``jax.distributed`` on localhost, compute what one
  process with two devices computes: same env shards, keys, and averaged gradients (encoder's
  too)."""
  one_dir, one_process = two_devices
  assert one_process.returncode == 0, one_process.stderr[-3000:]
  port = free_port()
  procs = [subprocess.Popen(
      [sys.executable, "-m", "goalrl.train", "--config=experiments/optimistic_dqn.py:quick",
       f"--workdir={tmp_path / 'two'}", *QUICK, f"--coordinator=localhost:{port}",
       "--num_processes=2", f"--process_id={i}"], cwd=ROOT, env=forced_devices(1),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
  results = [p.communicate(timeout=600) for p in procs]
  for p, (_, err) in zip(procs, results):
    assert p.returncode == 0, err[-3000:]
  two = rows(tmp_path / "two" / "metrics.jsonl")
  one = rows(one_dir)
  assert [r["step"] for r in two] == [512, 1024, 1536, 2048]
  for a, b in zip(one, two):
    assert a.keys() == b.keys()
    for k in a:
      assert a[k] == pytest.approx(b[k], rel=1e-5, nan_ok=True), k
  # Each process checkpoints its own shard.
  assert sorted(os.listdir(tmp_path / "two" / "checkpoints")) == ["process_0", "process_1"]


GROW_CODE = """
import jax, jax.numpy as jnp, numpy as np
from goalrl import encoder, parallel
from goalrl.config import encoder_defaults, grow_defaults
from goalrl.envs import EnvSpec

spec = EnvSpec("MiniGrid-Empty-5x5-v0", "minigrid", 8, 7, (7, 7, 3), 1, 4096, 1, True)
cfg = encoder_defaults("minigrid", stream_size=64, hidden=8, latent=2, batch_size=32,
                       grow=grow_defaults(branches=2, patience=4, trial_updates=6, ema=0.5,
                                          plateau_tol=0.05, margin=0.05))
ae = encoder.make_autoencoder(cfg, spec)
rng = np.random.default_rng(0)
# Device 0 sees varied views, device 1 one repeated view: far apart losses and plateaus.
image = rng.integers(0, 6, (2, 64, 7, 7, 3)).astype(np.uint8)
image[1] = image[1, :1]
obs = dict(image=image, direction=rng.integers(0, 4, (2, 64)).astype(np.int32))

def run(obs):  # each device: its own stream of different observations, hence its own losses
  state = ae.observe(ae.init(jax.random.PRNGKey(0)), obs, jax.random.PRNGKey(1))
  state, _ = jax.lax.scan(lambda s, i: ae.update(s, jax.random.fold_in(jax.random.PRNGKey(2), i)),
                          state, jnp.arange(150))
  return state.params, state.grow

mesh = parallel.make_mesh(2)
params, schedule = parallel.over_devices(run, mesh)(parallel.to_global(obs, mesh))
params, schedule = parallel.to_local(params), parallel.to_local(schedule)
apart = max(float(np.max(np.abs(p[0] - p[1]))) for p in jax.tree.leaves(params))
print(apart, schedule.trials[0], schedule.trials[1], schedule.kept[0], schedule.kept[1])
"""


def test_freeze_and_grow_decides_alike_on_every_device():
  """Each device sees a different stream, so different losses; the schedule averages the loss over
  devices first, so every device starts, keeps and drops the same branches at the same update and
  the parameters stay identical."""
  apart, *counts = map(float, run_python(GROW_CODE, 2).split())
  trials_0, trials_1, kept_0, kept_1 = counts
  assert trials_0 >= 1  # the schedule acted
  assert (trials_0, kept_0) == (trials_1, kept_1)
  assert apart == 0.0
