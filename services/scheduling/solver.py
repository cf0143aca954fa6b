"""The routing optimiser (VROOM, through pyvroom) behind a plain-data interface.

A problem is a dict: `matrix` (drive minutes between location indices; 0 is the depot), `vehicles`
({id, time_window, skills}), `jobs` ({id, location, service, time_windows, skills, priority}) and
`exploration` (VROOM's search depth, 0-5) with an optional `timeout_seconds`. The answer is VROOM's
own solution as a dict. Times are minutes on one axis (a multi-day plan counts day * 1440 + minute).

pyvroom holds the GIL while it solves (measured: a ticker thread advanced twice in 4.3 s), so under
eventlet a long solve would starve the AMQP heartbeat and the HTTP server. `solve_in_worker` runs a
solve in a child process (`python -m services.scheduling.solver`, JSON over stdin/stdout) through
eventlet's green subprocess; tiny problems (one crew's day) are solved in-process with `solve`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any


class SolverFailed(RuntimeError):
    pass


def solve(problem: dict[str, Any]) -> dict[str, Any]:
    import vroom  # imported here: it brings pandas, which the other services never need

    solver_input = vroom.Input()
    solver_input.set_durations_matrix(profile="car", matrix_input=problem["matrix"])
    for vehicle in problem["vehicles"]:
        solver_input.add_vehicle(
            vroom.Vehicle(
                vehicle["id"],
                start=0,
                end=0,
                time_window=vroom.TimeWindow(*vehicle["time_window"]),
                skills=set(vehicle.get("skills", ())) or None,
                costs=vroom.VehicleCosts(fixed=vehicle.get("fixed_cost", 0)),
            )
        )
    for job in problem["jobs"]:
        solver_input.add_job(
            vroom.Job(
                job["id"],
                location=job["location"],
                default_service=job["service"],
                time_windows=[vroom.TimeWindow(*window) for window in job["time_windows"]],
                skills=set(job.get("skills", ())) or None,
                priority=job.get("priority", 0),
            )
        )
    timeout = problem.get("timeout_seconds")
    solution = solver_input.solve(
        exploration_level=problem.get("exploration", 5),
        nb_threads=problem.get("threads", 1),
        timeout=dt.timedelta(seconds=timeout) if timeout else None,
    )
    return solution.to_dict()


def solve_in_worker(problem: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    """The same as `solve`, in a child process, without blocking other green threads."""
    from eventlet.green import subprocess

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "services.scheduling.solver"],
            input=json.dumps(problem).encode(),
            capture_output=True,
            timeout=timeout,
            env=env,
            cwd=root,
        )
    except subprocess.TimeoutExpired as error:
        raise SolverFailed(f"the solver took longer than {timeout}s") from error
    if done.returncode != 0:
        raise SolverFailed(done.stderr.decode(errors="replace")[-500:])
    return json.loads(done.stdout)


if __name__ == "__main__":
    json.dump(solve(json.load(sys.stdin)), sys.stdout)
