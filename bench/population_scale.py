"""Population at scale: N women (default 100,000), 3 years of daily MK-7 180 ug, output every 30 days,
streamed to disk in chunks. Prints wall time, time per subject and peak memory (resident set size).

    .venv/bin/python bench/population_scale.py                    # 100,000 subjects
    .venv/bin/python bench/population_scale.py --subjects 2000    # a shorter run
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from osteoqsp import Scenario, SolverSettings
from osteoqsp.population import run_population


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--save-every", default="30 day")
    ap.add_argument("--dask", default=None, help="'local' or a scheduler address")
    ap.add_argument("--rtol", type=float, default=1e-7, help="relative tolerance (osteoqsp's default 1e-7)")
    ap.add_argument("--method", default="split", choices=["dopri5", "rodas4", "split"])
    ap.add_argument("--keep", action="store_true", help="keep the output folder")
    args = ap.parse_args()
    sc = Scenario.from_dict({
        "name": "scale", "species": "human",
        "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"},
        "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}],
        "duration": "3 year", "save_every": args.save_every,
        "population": {"size": args.subjects, "seed": 7}})
    out = Path(tempfile.mkdtemp(prefix="osteoqsp-scale-")) / "run"
    start = time.perf_counter()
    result = run_population(sc, out, chunk_size=args.chunk, dask=args.dask,
                            settings=SolverSettings(method=args.method, rtol=args.rtol))
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    assert result is not None
    print(f"subjects {args.subjects}, failed {len(result.failures)}, cores {os.cpu_count()}, chunk {args.chunk}, "
          f"save_every {args.save_every}, method {args.method}, rtol {args.rtol:g}")
    print(f"wall {wall:.1f} s = {1000 * wall / args.subjects:.1f} ms/subject; peak RSS {peak_mb:.0f} MB "
          f"(this process{'; Dask workers not counted' if args.dask else ''}); output {size_mb:.0f} MB")
    if args.keep:
        print(f"output: {out}")
    else:
        shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
