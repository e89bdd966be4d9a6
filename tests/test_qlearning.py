"""The Q-learning core (``goalrl.agents.qlearning``): the target copy, its subset, the step count,
epsilon, and the update schedule of ``store_and_train``. Runs on a hand-made spec, no env."""
import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from goalrl import replay
from goalrl.agents import qlearning
from goalrl.config import dqn_defaults
from goalrl.envs import EnvSpec

SPEC = EnvSpec(name="MiniGrid-Empty-5x5-v0", kind="minigrid", num_envs=2, num_actions=3,
               frame_shape=(7, 7, 3), stack=1, num_cells=25, num_rooms=1, has_coverage=True)


def _cfg(**overrides):
  return dqn_defaults(**{**dict(replay_size=64, batch_size=4, learning_starts=8,
                                target_update_every=3, epsilon_decay_steps=100), **overrides})


def test_target_copies_every_period_and_only_the_named_entries():
  core = qlearning.make_core(_cfg(), SPEC, horizon=1, target_keys=("q",))
  params = {"q": {"w": jnp.ones(3)}, "other": {"w": jnp.ones(2)}}
  learner = core.init(params)
  assert set(learner.target) == {"q"}
  grads = jax.tree.map(jnp.ones_like, params)
  seen = []
  for _ in range(6):
    learner = core.step(learner, grads)
    seen.append(bool(jnp.all(learner.target["q"]["w"] == learner.online["q"]["w"])))
  assert int(learner.num_updates) == 6
  assert seen == [False, False, True, False, False, True]  # copies at steps 3 and 6 only
  assert not np.allclose(learner.online["other"]["w"], 1.0)  # every entry trains


def test_epsilon_schedule_and_greedy_rows():
  core = qlearning.make_core(_cfg(epsilon_end=0.0), SPEC, horizon=1)
  q = jnp.tile(jnp.array([[0.0, 2.0, 1.0]]), (256, 1))
  greedy, metrics = core.act(q, jax.random.PRNGKey(0), jnp.int32(100))
  assert float(metrics["epsilon"]) == 0.0 and np.all(np.asarray(greedy) == 1)
  explore, metrics = core.act(q, jax.random.PRNGKey(0), jnp.int32(0))
  assert float(metrics["epsilon"]) == 1.0 and len(np.unique(np.asarray(explore))) == 3


@flax.struct.dataclass
class _State:
  replay: object
  steps: jnp.ndarray


@pytest.mark.parametrize("updates_per_train", [1, 3])
def test_store_and_train_runs_the_due_updates(updates_per_train):
  core = qlearning.make_core(_cfg(updates_per_train=updates_per_train), SPEC, horizon=1)
  state = _State(replay=core.buffer.init(replay.example_row(SPEC)), steps=jnp.zeros((), jnp.int32))
  rows = replay.Row(frame=dict(image=jnp.zeros((2, 7, 7, 3), jnp.uint8),
                               direction=jnp.zeros((2,), jnp.uint8)),
                    action=jnp.zeros((2,), jnp.uint8), reward=jnp.zeros((2,)),
                    terminated=jnp.zeros((2,), bool), truncated=jnp.zeros((2,), bool),
                    first=jnp.zeros((2,), bool))

  def gradient_step(s, key):
    return s.replace(steps=s.steps + 1), {"x": jnp.ones(())}

  updated = []
  for it in range(8):  # 2 env steps per iteration; updates once learning_starts=8 steps are taken
    state, metrics = core.store_and_train(state, rows, jax.random.PRNGKey(it), jnp.int32(2 * it),
                                          gradient_step)
    updated.append(float(metrics["updated"]))
  assert updated == [0.0] * 4 + [1.0] * 4
  assert int(state.steps) == 4 * updates_per_train
