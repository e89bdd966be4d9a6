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
