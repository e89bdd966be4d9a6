"""Probe a goal-agent run's achiever (or actor) at a checkpoint (RESULTS.md §19): on 2,000
replay rows of seed 0 from the last 10k env steps, the goal is the state k = 1-8 steps later in
the same episode; prints the greedy actions' kinds (goal at another pose / at the same pose), how often the greedy
action changes when the goals are shuffled, and the mean of max_a Q and of max_a Q - min_a Q.

  PYTHONPATH=src .venv/bin/python benchmarks/goal_probe.py $PWD/runs/s10_kc/counts_e50_rtf_ach 30000 achiever

The run folder must be an absolute path (orbax); the run needs env.oracle_position=True.
"""

import json, sys
import numpy as np, jax, jax.numpy as jnp, ml_collections
import orbax.checkpoint as ocp
from goalrl import envs, networks, encoder as encoder_lib
from goalrl.agents import goal_agent
run, step, net = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "achiever"
cfg = ml_collections.ConfigDict(json.load(open(run + "/config.json")))
m = ocp.CheckpointManager(run + "/checkpoints", item_names=("state", "actions"))
st = m.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(), actions=ocp.args.StandardRestore()))["state"]
seed0 = lambda t: jax.tree.map(lambda x: jnp.asarray(x[0, 0]), t)
ag = st["agent"]
params = seed0(ag["learner"]["online"])[net]
enc = seed0(ag["encoder"]["params"]) if "params" in ag["encoder"] else None
rows = jax.tree.map(lambda x: np.asarray(x[0, 0]), ag["replay"]["experience"])
pool = envs.make_pool(cfg.env, 0); spec = envs.make_spec(cfg.env, pool)
ae = encoder_lib.make_autoencoder(cfg.agent.encoder, spec)
n_act = spec.num_actions
qnet = networks.GoalConditionedQ(networks.make_torso("minigrid", cfg.agent.hidden), (*cfg.agent.actor_layers, n_act))
per_env = step // cfg.env.num_envs
rng = np.random.default_rng(0)
frame, first = rows["row"]["frame"], rows["row"]["first"]
obs_t, obs_g = [], []
for _ in range(2000):
  e = rng.integers(0, frame["image"].shape[0]); t = rng.integers(per_env - 1250, per_env - 10); k = rng.integers(1, 9)
  if first[e, t + 1:t + k + 1].any(): continue
  obs_t.append((e, t)); obs_g.append((e, t + k))
take = lambda idx: {"image": jnp.asarray(np.stack([frame["image"][e, t] for e, t in idx])),
                    "direction": jnp.asarray(np.stack([frame["direction"][e, t] for e, t in idx]).astype(np.int32)),
                    "position": jnp.asarray(np.stack([frame["position"][e, t] for e, t in idx]))}
o, g = take(obs_t), take(obs_g)
z_g = ae.encode(enc, g)
goal_in = z_g
if cfg.agent.get("actor_position", False):  # the achiever's own features of the goal's offset
  own, gp = goal_agent.pose_of(o), goal_agent.pose_of(g)
  ahead, right = envs.minigrid_view_offset(own // 4, own % 4, gp // 4)
  goal_in = jnp.concatenate([z_g, goal_agent.offset_features(own, gp)], -1)
q = qnet.apply(params, o, goal_in)
a = np.asarray(q.argmax(-1))
same = np.asarray((o["position"] == g["position"]) & (o["direction"] == g["direction"]))
names = ["left", "right", "forward", "pickup", "drop", "toggle", "done"][:n_act]
print(run.split("/")[-1], step, net, "pairs", len(a), "goal at the same pose", same.mean().round(3))
for label, msk in (("goal elsewhere", ~same), ("goal same pose", same)):
  h = np.bincount(a[msk], minlength=n_act) / max(msk.sum(), 1)
  print(" ", label, " ".join(f"{nm}={x:.2f}" for nm, x in zip(names, h)))
# does the greedy action depend on the goal? same states, shuffled goals
perm = rng.permutation(len(a))
q2 = qnet.apply(params, o, goal_in[perm])
print("  argmax changes when the goal is shuffled:", float((np.asarray(q2.argmax(-1)) != a).mean()))
print("  Q max mean %.3f, spread (max-min) mean %.3f" % (float(q.max(-1).mean()), float((q.max(-1) - q.min(-1)).mean())))
# first action on a shortest path, for goals ahead in open line: forward when goal straight ahead
if cfg.agent.get("actor_position", False):
  ahead, right = np.asarray(ahead), np.asarray(right)
  straight = (ahead > 0) & (right == 0)
  behind_side = (right != 0)
  print("  goal straight ahead: forward share %.2f (n=%d)" % ((a[straight] == 2).mean(), straight.sum()))
  print("  goal to a side: turn share %.2f (n=%d); right when right>0: %.2f" % (np.isin(a[behind_side], [0, 1]).mean(), behind_side.sum(), (a[(right > 0)] == 1).mean()))
