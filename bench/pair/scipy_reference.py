"""numpy + scipy reference for `bench pair`: one AOUP step (eps = 0) of N soft discs in 2-D with the softplus
repulsion f(r) = softplus_beta(2 r0 - r), neighbours from cKDTree(boxsize=L).query_pairs, forces summed with
np.bincount, then x += (v0 g + k F) dt (wrapped) and the exact OU update of g. The same step as
ThermoLearn's ActiveSystem. Times BLOCKS blocks of BLOCK steps (wall: perf_counter; CPU: process_time, which reads
CLOCK_PROCESS_CPUTIME_ID at nanosecond resolution) and prints one JSON line: seconds per step (wall and CPU), best and
median block.

usage: python3 scipy_reference.py N BLOCK BLOCKS
"""
import json
import sys
import time

import numpy as np
from scipy.spatial import cKDTree

n, block, blocks = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
phi, r0, beta, v0, k, gamma, dt = 0.5, 1.0, 7.5, 0.25, 1.0, 0.01, 0.1
side = np.sqrt(n * np.pi * r0 ** 2 / phi)
cutoff = 2 * r0 - np.log(np.expm1(1e-8 * beta)) / beta
rng = np.random.default_rng(0)
per_axis = int(np.ceil(np.sqrt(n)))
spacing = side / per_axis
sites = np.stack(np.meshgrid(np.arange(per_axis), np.arange(per_axis), indexing="ij"), -1).reshape(-1, 2)[:n]
x = (sites + 0.5 + 0.05 * (rng.random((n, 2)) - 0.5)) * spacing
g = rng.standard_normal((n, 2))
decay, kick = np.exp(-gamma * dt), np.sqrt(1 - np.exp(-2 * gamma * dt))


def step(x, g):
    pairs = cKDTree(x, boxsize=side).query_pairs(cutoff, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = x[i] - x[j]
    d -= side * np.round(d / side)
    r = np.sqrt((d * d).sum(1))
    u = beta * (2 * r0 - r)
    f = (np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))) / beta
    fv = (f / r)[:, None] * d
    force = np.empty_like(x)
    for a in range(2):
        force[:, a] = np.bincount(i, fv[:, a], n) - np.bincount(j, fv[:, a], n)
    x = np.mod(x + (v0 * g + k * force) * dt, side)
    g = decay * g + kick * rng.standard_normal((n, 2))
    return x, g, len(pairs)


x, g, _ = step(x, g)  # warm-up
wall, cpu = [], []
for _ in range(blocks):
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(block):
        x, g, npairs = step(x, g)
    wall.append((time.perf_counter() - w0) / block)
    cpu.append((time.process_time() - c0) / block)
print(json.dumps({"n": n, "pairs": int(npairs), "wall_s": min(wall), "cpu_s": min(cpu),
                  "wall_median_s": float(np.median(wall)), "cpu_median_s": float(np.median(cpu)), "numpy": np.__version__, "scipy": __import__("scipy").__version__}))
