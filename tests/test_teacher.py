"""AMIGo's teacher records (``goalrl.teacher``): labels, the ring, the rising difficulty."""
import jax
import jax.numpy as jnp
import numpy as np

from goalrl import teacher


def test_a_goal_pays_only_when_reached_in_at_least_t_star_steps():
  reached = jnp.array([True, True, True, False])
  steps = jnp.array([6, 7, 9, 20])
  np.testing.assert_allclose(teacher.labels(reached, steps, jnp.asarray(7)),
                             [-teacher.PENALTY, teacher.REWARD, teacher.REWARD, -teacher.PENALTY])


def test_records_fill_the_ring_in_order_wrap_and_raise_t_star_on_easy_goals():
  rec = teacher.init(size=4, difficulty=3)
  ended = jnp.array([True, False, True])
  rec = teacher.record(rec, ended, jnp.array([10, 11, 12]), jnp.array([20, 21, 22]),
                       jnp.array([True, True, False]), jnp.array([1, 1, 9]), easy_count=2,
                       max_difficulty=4)
  assert int(rec.count) == 2 and int(rec.difficulty) == 3 and int(rec.easy) == 1
  np.testing.assert_array_equal(rec.start, [10, 12, -1, -1])  # env 1's goal had not ended
  np.testing.assert_allclose(rec.label[:2], [-teacher.PENALTY, -teacher.PENALTY])
  # three more: the ring wraps to slot 0; the second easy goal raises t* to 4 (its cap)
  rec = teacher.record(rec, jnp.ones(3, bool), jnp.array([13, 14, 15]), jnp.array([23, 24, 25]),
                       jnp.array([True, False, True]), jnp.array([2, 5, 3]), easy_count=2,
                       max_difficulty=4)
  assert int(rec.count) == 5 and int(rec.difficulty) == 4 and int(rec.easy) == 0
  np.testing.assert_array_equal(rec.start, [15, 12, 13, 14])
  # labelled under t* = 3 as it stood: 3 steps pays, 2 does not
  np.testing.assert_allclose(rec.label, [teacher.REWARD, -teacher.PENALTY, -teacher.PENALTY,
                                         -teacher.PENALTY])
  rec = teacher.record(rec, jnp.ones(3, bool), jnp.zeros(3, jnp.int32), jnp.zeros(3, jnp.int32),
                       jnp.ones(3, bool), jnp.ones(3, jnp.int32), easy_count=2, max_difficulty=4)
  assert int(rec.difficulty) == 4  # never past max_goal_steps


def test_samples_come_from_written_records_only():
  rec = teacher.init(size=8)
  _, _, _, valid = teacher.sample(rec, jax.random.PRNGKey(0), 16)
  assert not np.asarray(valid).any()
  rec = teacher.record(rec, jnp.ones(3, bool), jnp.arange(3), jnp.arange(3) + 5,
                       jnp.zeros(3, bool), jnp.ones(3, jnp.int32), easy_count=9, max_difficulty=9)
  start, goal, _, valid = teacher.sample(rec, jax.random.PRNGKey(1), 64)
  assert np.asarray(valid).all() and set(np.asarray(start).tolist()) == {0, 1, 2}
  np.testing.assert_array_equal(goal, start + 5)
