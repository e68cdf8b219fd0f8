"""``python -m devstack.registry_sim [--host 127.0.0.1] [--port 5002] [--size 10000] [--seed 373]``"""
from __future__ import annotations

import argparse
import time

from werkzeug.serving import run_simple

from devstack.population import DEFAULT_SEED, DEFAULT_SIZE, build_population
from devstack.registry_sim.app import DEFAULT_PORT, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.registry_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="persons in the synthetic population")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    population = build_population(size=args.size, seed=args.seed)
    print(f"population: {len(population)} persons in {len(population.households)} households "
          f"({time.perf_counter() - started:.2f} s)")
    run_simple(args.host, args.port, create_app(population), threaded=True)


if __name__ == "__main__":
    main()
