import chex
import jax.numpy as jnp
import numpy as np

from goalrl import losses


class DoubleQTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_online_selects_target_values(self):
    fn = self.variant(losses.double_q_learning_td)
    q_tm1 = jnp.array([1.0, 2.0, 3.0])
    q_t_value = jnp.array([10.0, 20.0, 30.0])
    q_t_selector = jnp.array([0.0, 5.0, 1.0])  # online net prefers action 1 -> value 20
    td = fn(q_tm1, jnp.array(2), jnp.array(0.5), jnp.array(0.9), q_t_value, q_t_selector)
    np.testing.assert_allclose(td, 0.5 + 0.9 * 20.0 - 3.0, rtol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_zero_discount_ignores_bootstrap(self):
    fn = self.variant(losses.double_q_learning_td)
    td = fn(jnp.array([1.0, 2.0]), jnp.array(0), jnp.array(1.0), jnp.array(0.0),
            jnp.array([1e6, 1e6]), jnp.array([0.0, 1.0]))
    np.testing.assert_allclose(td, 0.0)

  def test_huber_is_quadratic_then_linear(self):
    np.testing.assert_allclose(losses.huber(jnp.array([0.5, 3.0])), [0.125, 2.5])


def test_advantage_learning_lowers_the_target_by_the_action_gap():
  """alpha * (max_b Q'(s, b) - Q'(s, a)) comes off the target; the greedy action keeps its target
  and alpha = 0 is plain double DQN."""
  from goalrl import replay
  # Q(obs) = obs @ w: obs are one-hot states, so each row of w is a state's Q-values.
  online = jnp.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.5]])
  target = jnp.array([[1.5, 2.5, 3.5], [0.2, 1.0, 0.4]])
  apply = lambda w, obs: obs @ w
  s0, s1 = jnp.eye(2)
  batch = replay.Transition(obs_tm1=jnp.stack([s0, s0]), a_tm1=jnp.array([0, 2]),
                            r_t=jnp.array([0.5, 0.5]), discount_t=jnp.array([0.9, 0.9]),
                            obs_t=jnp.stack([s1, s1]), valid=jnp.array([True, True]))
  # Plain: online picks action 1 at s1, target values it 1.0 -> target 0.5 + 0.9 = 1.4.
  plain_td = 1.4 - online[0, jnp.array([0, 2])]
  for alpha in (0.0, 0.5):
    loss, _ = losses.double_dqn_loss(apply, online, target, batch, 100.0, alpha)
    gap = jnp.max(target[0]) - target[0, jnp.array([0, 2])]  # 2.0 for action 0, 0 for action 2
    np.testing.assert_allclose(loss, np.mean(0.5 * (plain_td - alpha * gap) ** 2), rtol=1e-6)
