#!/usr/bin/env python3
"""Reference solver for bench:jobshop: OR-Tools CP-SAT on one job-shop or flexible job-shop instance.

    python3 bench/cpsat_jobshop.py <instance file> [--time-limit SEC] [--workers N] [--fjs]

Dev-time only (`pip install ortools`); nothing in the package or CI runs it. Reads the same text the
bench gives the Takt solver (JSPLIB: optional '#' lines, "n m", one line per job of 0-based
"machine duration" pairs; --fjs: Brandimarte .fjs with 1-based machines) and builds the textbook
CP-SAT model: one interval per operation (per alternative, optional, for flexible instances), one
NoOverlap per machine, job order as precedences, minimise the makespan. No hints, no tuning.

Prints one JSON object: status, makespan, bound (CP-SAT's best lower bound), solve wall and CPU time
(all threads), time to the returned plan, and the plan itself as [job, op, machine (0-based), start, end] rows, so the bench
can check it with the same validator as its own plans.
"""
import argparse
import json
import resource
import sys
import time


def numbers(text):
    body = " ".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    return [int(t) for t in body.split()]


def read_jsplib(text):
    """Jobs as lists of operations; an operation is a list of (machine, duration) alternatives."""
    v = numbers(text)
    n, m = v[0], v[1]
    if len(v) != 2 + 2 * n * m:
        raise ValueError(f"job-shop text: expected {2 * n * m} numbers after the header, got {len(v) - 2}")
    jobs = []
    p = 2
    for _ in range(n):
        ops = []
        for _ in range(m):
            ops.append([(v[p], v[p + 1])])
            p += 2
        jobs.append(ops)
    return jobs, m


def read_fjs(text):
    lines = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    head = lines[0].split()  # "n m [average machines per operation]", the average not an integer
    n, m = int(head[0]), int(head[1])
    v = numbers("\n".join(lines[1:]))
    p = 0
    jobs = []
    for _ in range(n):
        n_ops = v[p]
        p += 1
        ops = []
        for _ in range(n_ops):
            k = v[p]
            p += 1
            alts = []
            for _ in range(k):
                alts.append((v[p] - 1, v[p + 1]))
                p += 2
            ops.append(alts)
        jobs.append(ops)
    return jobs, m


def solve(jobs, n_machines, time_limit, workers):
    from ortools.sat.python import cp_model

    horizon = sum(max(d for _, d in alts) for ops in jobs for alts in ops)
    model = cp_model.CpModel()
    per_machine = [[] for _ in range(n_machines)]
    # for each operation: start var, end var, and (machine, duration, presence literal or None) per alternative
    ops_vars = []
    for j, ops in enumerate(jobs):
        row = []
        for o, alts in enumerate(ops):
            lo = min(d for _, d in alts)
            hi = max(d for _, d in alts)
            start = model.new_int_var(0, horizon, f"s{j}_{o}")
            end = model.new_int_var(0, horizon, f"e{j}_{o}")
            if len(alts) == 1:
                mc, d = alts[0]
                per_machine[mc].append(model.new_interval_var(start, d, end, f"i{j}_{o}"))
                row.append((start, end, [(mc, d, None)]))
                continue
            dur = model.new_int_var(lo, hi, f"d{j}_{o}")
            model.new_interval_var(start, dur, end, f"i{j}_{o}")
            choices = []
            for a, (mc, d) in enumerate(alts):
                lit = model.new_bool_var(f"x{j}_{o}_{a}")
                per_machine[mc].append(
                    model.new_optional_interval_var(start, d, end, lit, f"i{j}_{o}_{a}")
                )
                model.add(dur == d).only_enforce_if(lit)
                choices.append((mc, d, lit))
            model.add_exactly_one(c[2] for c in choices)
            row.append((start, end, choices))
        for o in range(1, len(row)):
            model.add(row[o][0] >= row[o - 1][1])
        ops_vars.append(row)
    for intervals in per_machine:
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, [row[-1][1] for row in ops_vars if row])
    model.minimize(makespan)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers

    class Found(cp_model.CpSolverSolutionCallback):
        def __init__(self):
            super().__init__()
            self.last = None

        def on_solution_callback(self):
            self.last = self.wall_time

    def cpu():
        u = resource.getrusage(resource.RUSAGE_SELF)  # the whole process: all solver threads
        return u.ru_utime + u.ru_stime

    found = Found()
    t0 = time.perf_counter()
    c0 = cpu()
    status = solver.solve(model, found)
    wall = time.perf_counter() - t0
    cpu_s = cpu() - c0
    out = {
        "status": solver.status_name(status),
        "makespan": None,
        "bound": int(round(solver.best_objective_bound)),
        "wallS": round(wall, 3),
        "cpuS": round(cpu_s, 3),
        "timeToBestS": None if found.last is None else round(found.last, 3),
        "ops": [],
    }
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        out["makespan"] = solver.value(makespan)
        for j, row in enumerate(ops_vars):
            for o, (start, end, choices) in enumerate(row):
                mc = next(c[0] for c in choices if c[2] is None or solver.boolean_value(c[2]))
                out["ops"].append([j, o, mc, solver.value(start), solver.value(end)])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fjs", action="store_true", help="Brandimarte flexible job-shop text")
    args = ap.parse_args()
    with open(args.file, encoding="utf8") as f:
        text = f.read()
    jobs, m = read_fjs(text) if args.fjs else read_jsplib(text)
    import ortools

    out = solve(jobs, m, args.time_limit, args.workers)
    out["version"] = ortools.__version__
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
