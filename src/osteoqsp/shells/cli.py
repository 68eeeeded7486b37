"""Command line: a thin shell over the Python API. User errors print one line and exit with code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from osteoqsp.errors import ScenarioError, SolveError, SteadyStateError
from osteoqsp.runs.files import staged_folder
from osteoqsp.runs.library import load_scenario, scenario_names, trial_path


class UserError(Exception):
    pass


@contextmanager
def _status(text: str) -> Iterator[None]:
    """A spinner on a terminal; silent when stderr is not one (pipes, CI, tests)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(text):
        yield


def _settings(args: argparse.Namespace, population: bool = False):  # noqa: ANN202
    """The integrator: --method and --rtol over the defaults (one subject: dopri5, 1e-7; a population: the
    split method, 5e-7)."""
    from osteoqsp.engine import POPULATION_SETTINGS, SolverSettings

    default = POPULATION_SETTINGS if population else SolverSettings()
    rtol = default.rtol if args.rtol is None else args.rtol
    if not 1e-12 <= rtol <= 1e-3:
        raise UserError(f"--rtol {rtol:g}: give a relative tolerance between 1e-12 and 1e-3")
    return SolverSettings(method=args.method or default.method, rtol=rtol)


def cmd_simulate(args: argparse.Namespace) -> int:
    from osteoqsp import simulate

    scenario = load_scenario(args.scenario)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(f"{out}: exists and is not empty (use --force to replace it)")
    if scenario.population is not None:
        from osteoqsp.runs.population import simulate_population

        pop = simulate_population(scenario, out, resume=args.resume, dask=args.dask,
                                  settings=_settings(args, population=True))
        print(f"{scenario.name}: {pop.n_subjects} subjects ({len(pop.failures)} failed) x {len(pop.time_day)} "
              f"time points in {pop.wall_s:.1f} s -> {out}/timecourse.parquet, summary.csv, run.json, figures/")
        print("seconds by phase: " + ", ".join(f"{k} {v:.2f}" for k, v in pop.timings_s.items()))
        return 0
    with _status(f"simulating {scenario.name} (the first run on a machine compiles the model, about 20 s)"):
        result = simulate(scenario, settings=_settings(args))
    with staged_folder(out) as tmp:  # nothing half-written
        result.write(tmp)
    print(f"{scenario.name}: {len(result.time_day)} time points x {len(result.spec_columns())} observables "
          f"-> {out}/timecourse.csv, run.json, figures/")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    for name, doc in scenario_names().items():
        print(f"{name:30s} {doc}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from osteoqsp.interop.sbml import write_sbml
    from osteoqsp.runs.scenario import Scenario

    if args.format == "petab":
        return _export_petab(args)
    if args.format != "sbml":
        raise UserError(f"export: unknown format {args.format!r} (known: sbml, petab)")
    scenario = load_scenario(args.scenario) if args.scenario else Scenario.from_dict(
        {"name": "typical-woman-58", "species": "human",
         "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"}, "duration": "1 year"})
    path = write_sbml(scenario, args.output)
    print(f"{scenario.name}: SBML written to {path}")
    return 0


def _export_petab(args: argparse.Namespace) -> int:
    """The calibration problem as PEtab problems (one per study scenario), each checked by petab's linter."""
    from osteoqsp.interop.petab import export_petab, lint

    if args.scenario:
        raise UserError("export petab takes no scenario: it exports the studies of the evidence table")
    out = Path(args.output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out}: exists and is not an empty folder")
    with staged_folder(out) as tmp, _status("writing the PEtab problems"):
        problems = export_petab(tmp)
        for p in problems:
            errors = lint(p)
            if errors:
                raise UserError(f"petab lint failed for {p.parent.name}: {errors[0]}")
    print(f"{len(problems)} PEtab problems (each passes petab's linter) -> {out}/*/problem.yaml; "
          f"{out}/index.tsv lists every target, exported or not and why")
    return 0


def cmd_trial(args: argparse.Namespace) -> int:
    from osteoqsp.analyses.trial import Trial, run_trial

    trial = Trial.from_yaml(trial_path(args.trial))
    out = Path(args.output)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not args.force)):
        raise UserError(f"{out}: exists (use --force to replace a folder)")
    with _status(f"simulating the arms of {trial.name}"):
        result = run_trial(trial, out)
    print(result.differences.to_string(index=False))
    extra = "".join(f", {f}" for f in ("kaplan_meier.png", "power_curve.csv", "power_curve.png") if (out / f).exists())
    print(f"-> {out}/estimates.csv, differences.csv, endpoints.png{extra}, run.json, arms/")
    return 0


def cmd_attribution(args: argparse.Namespace) -> int:
    from osteoqsp.analyses.attribution import attribution, plot_attribution

    scenario = load_scenario(args.scenario)
    if scenario.population is not None:
        raise UserError("attribution runs one typical subject: remove the population field")
    endpoints = tuple(args.endpoints.split(","))
    with _status(f"attributing the effect of {scenario.name} to the MK-7 pathways"):
        try:
            df = attribution(scenario, endpoints)
        except KeyError as exc:
            raise UserError(f"--endpoints: {exc.args[0]}") from None
    print(df.round(4).to_string())
    if args.uncertainty:
        from osteoqsp.analyses.attribution import attribution_uncertainty

        with _status(f"the attribution under {args.uncertainty} posterior draws"):
            try:
                unc = attribution_uncertainty(scenario, args.uncertainty, endpoints)
            except ValueError as exc:
                raise UserError(f"--uncertainty: {exc}") from None
        print(f"under the uncertainty ({args.uncertainty} draws of the trial fit's posterior): median [2.5-97.5 %]")
        print(_interval_table(unc).to_string())
        if args.output:
            Path(args.output).mkdir(parents=True, exist_ok=True)
    _save_table(args.output, "attribution", df, plot_attribution, f"{scenario.name}: effect vs placebo by pathway",
                index=True)
    if args.uncertainty and args.output:
        unc.to_csv(Path(args.output) / "attribution_uncertainty.csv", float_format="%.6g")
        print(f"-> {args.output}/attribution_uncertainty.csv")
    return 0


def _interval_table(unc):  # noqa: ANN001,ANN202
    """median [low, high] text per case and column of a (median, q2.5, q97.5) frame."""
    import pandas as pd

    cols = unc["median"].columns
    return pd.DataFrame({c: [f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in
                             zip(unc["median"][c], unc["q2.5"][c], unc["q97.5"][c])] for c in cols},
                        index=unc.index)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from osteoqsp.analyses.sensitivity import plot_sensitivity, sensitivity

    scenario = load_scenario(args.scenario)
    if scenario.population is not None:
        raise UserError("sensitivity varies the parameters itself: remove the population field")
    params = args.parameters.split(",") if args.parameters else None
    with _status(f"{args.method} sensitivity of {scenario.name}"):
        try:
            df = sensitivity(scenario, method=args.method, n=args.n, seed=args.seed, parameters=params,
                             endpoints=tuple(args.endpoints.split(",")))
        except (KeyError, ValueError) as exc:
            raise UserError(str(exc.args[0]) if exc.args else str(exc)) from None
    print(df.round(4).to_string(index=False))
    print(f"({df.attrs['samples']} model runs)")
    _save_table(args.output, "sensitivity", df, plot_sensitivity, f"{scenario.name}: {args.method}, seed {args.seed}",
                index=False)
    if args.uncertainty:
        from osteoqsp.analyses.sensitivity import sensitivity_uncertainty

        with _status(f"the sensitivity around {args.uncertainty} posterior draws"):
            try:
                unc = sensitivity_uncertainty(scenario, args.uncertainty, method=args.method, n=args.n,
                                              seed=args.seed, parameters=params,
                                              endpoints=tuple(args.endpoints.split(",")))
            except (KeyError, ValueError) as exc:
                raise UserError(f"--uncertainty: {exc.args[0] if exc.args else exc}") from None
        print(f"around {args.uncertainty} draws of the trial fit's posterior: median [2.5-97.5 %] "
              f"({unc.attrs['samples']} model runs)")
        print(_interval_table(unc).to_string())
        if args.output:
            unc.to_csv(Path(args.output) / "sensitivity_uncertainty.csv", float_format="%.6g")
            print(f"-> {args.output}/sensitivity_uncertainty.csv")
    return 0


def _save_table(output: str | None, stem: str, df, plot, title: str, index: bool) -> None:  # noqa: ANN001
    """With an output folder: STEM.csv and STEM.png (drawn by plot(df, path, title)), written as one."""
    if not output:
        return
    with staged_folder(output) as tmp:
        df.to_csv(tmp / f"{stem}.csv", index=index, float_format="%.6g")
        plot(df, tmp / f"{stem}.png", title)
    print(f"-> {output}/{stem}.csv, {stem}.png")


def cmd_report(args: argparse.Namespace) -> int:
    from osteoqsp.shells.report import build_report

    try:
        path = build_report(args.folder)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    print(f"-> {path}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """The dashboard: `streamlit run` of osteoqsp/shells/app.py on 127.0.0.1 (until Ctrl-C)."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("streamlit") is None:
        raise UserError("the dashboard needs streamlit: pip install 'osteoqsp[app]'")
    script = Path(__file__).with_name("app.py")
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", "127.0.0.1",
           "--server.port", str(args.port), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal"]
    if args.headless:
        cmd += ["--server.headless", "true"]
    print(f"osteoqsp dashboard on http://127.0.0.1:{args.port} (Ctrl-C to stop)")
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


def cmd_mbma(args: argparse.Namespace) -> int:
    """The model-based meta-analysis of the vitamin K trials: posterior of the bone-effect magnitudes."""
    from rich.console import Console
    from rich.table import Table

    from osteoqsp.analyses.mbma import install_posterior, run_mbma, write

    if args.walkers < 2 * 6 or args.steps <= args.burn or args.burn < 0:
        raise UserError("--walkers must be at least 12 (twice the 6 sampled dimensions), --steps above --burn")
    out = Path(args.output)
    with _status(f"sampling the trial fit ({args.walkers} walkers x {args.steps} steps, emcee)"):
        result = run_mbma(args.walkers, args.steps, args.burn, args.seed, progress=sys.stderr.isatty(),
                          claims=not args.no_claims)
    write(result, out)
    table = Table(title="osteoqsp mbma: posterior of the vitamin K bone-effect magnitudes (log-uniform priors)")
    for col in ("parameter", "start (table)", "median", "95 % interval", "identifiable"):
        table.add_column(col)
    for r in result.summary.rename(columns={"q2.5": "q2_5", "q97.5": "q97_5"}).itertuples():
        table.add_row(r.parameter, f"{r.start:.3g}", f"{r.median:.3g}",
                      f"{getattr(r, 'q2_5'):.3g} to {getattr(r, 'q97_5'):.3g}", "yes" if r.identifiable else "no")
    Console(width=140).print(table)
    fit = Table(title="trial contrasts (treatment - control, % points)")
    for col in ("contrast", "observed", "se", "model at the start", "posterior-median model", "z"):
        fit.add_column(col)
    for r in result.table.itertuples():
        fit.add_row(r.contrast + ("" if r.fitted else " (not fitted)"), f"{r.observed:g}", f"{r.se:g}",
                    f"{r.model_before:.2f}", f"{r.model_posterior_median:.2f}", f"{r.z_after:+.1f}")
    Console(width=140).print(fit)
    if args.install:
        path = install_posterior(result, args.keep)
        print(f"installed {args.keep} posterior draws as the package's posterior: {path}")
        from osteoqsp.analyses.mbma import install_typical, typical_from_posterior

        values, logp, rank = typical_from_posterior(result.draws)
        note = (f"osteoqsp mbma: the highest-posterior draw meeting every claim (rank {rank + 1}, log-posterior "
                f"{logp:.2f}) of the trial fit of analyses/evidence/mbma.yaml with the claims as soft constraints; "
                "posterior in params/posterior-human.csv")
        print(f"installed the typical values {values}: {install_typical(values, note)}")
    print(f"-> {out}/posterior.csv, contrasts.csv, parameters.csv, mbma.json, mbma.png")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the `fitted` parameters to the evidence targets; tables on the terminal, files in DIR."""
    from rich.console import Console
    from rich.table import Table

    from osteoqsp.analyses.calibration import calibrate, install_default, write

    names = [x.strip() for x in args.parameters.split(",")] if args.parameters else None
    try:
        ids = [int(x) for x in args.targets.split(",")] if args.targets else None
    except ValueError:
        raise UserError(f"--targets {args.targets!r}: give target ids (row numbers) separated by commas") from None
    if args.starts < 1 or args.profile < 0 or args.max_nfev < 1:
        raise UserError("--starts and --max-nfev must be at least 1, --profile at least 0")
    out = Path(args.output)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(f"{out}: exists and is not empty (use --force to replace it)")
    console = Console(stderr=True)
    with console.status("calibrating") as status:
        try:
            cal = calibrate(args.species, names, ids, use_constraints=False if args.no_constraints else None,
                            from_shipped=args.from_shipped, prior_fold=args.prior_fold, starts=args.starts, seed=args.seed, max_nfev=args.max_nfev,
                            profile_points=args.profile, progress=lambda m: status.update(f"calibrating: {m}"))
        except (KeyError, ValueError) as exc:
            raise UserError(str(exc).strip("'\"")) from None
    table = Table(title=f"osteoqsp calibrate ({cal.species}): objective {cal.objective_start:.4g} -> "
                        f"{cal.objective_best:.4g}; inside {sum(c.inside for c in cal.before)} -> "
                        f"{sum(c.inside for c in cal.after)} of {len(cal.targets)} targets")
    for col in ("parameter", "unit", "start", "estimate", "95 % interval", "identifiable"):
        table.add_column(col)
    for r in cal.table():
        table.add_row(r["name"], r["unit"], f"{r['start']:.4g}", f"{r['estimate']:.4g}",
                      f"{r['ci95_low']:.3g} to {r['ci95_high']:.3g} ({r['ci_method']})",
                      "yes" if r["identifiable"] else f"[red]no[/red]: {r['note']}")
    Console(width=160).print(table)
    with staged_folder(out) as tmp:
        write(cal, tmp)
    print(f"-> {out}/calibrated.csv, residuals.csv, starts.csv, calibration.json, figures/")
    if args.install:
        path = install_default(cal)
        (path.parent / f"calibration-{cal.species}.json").write_text((out / "calibration.json").read_text())
        print(f"installed as the package default: {path}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Observed against simulated for every mapped evidence target; exit 0 whatever the result."""
    import csv

    from rich.console import Console
    from rich.table import Table

    from osteoqsp.analyses.evidence import overview_figure, study_figures, validate

    with _status("simulating the study scenarios"):
        comparisons, missing = validate()
    table = Table(title=f"osteoqsp validate: {sum(c.inside for c in comparisons)}/{len(comparisons)} targets "
                        f"inside their interval ({len(missing)} evidence rows not compared)")
    for col in ("target", "study", "endpoint", "observed", "interval", "simulated", "unit", "in"):
        table.add_column(col, overflow="fold")
    for c in comparisons:
        table.add_row(str(c.target), c.study, c.endpoint[:48], f"{c.observed:g}", f"{c.low:.3g} to {c.high:.3g}",
                      f"{c.simulated:.3g}", c.unit, "yes" if c.inside else "[red]NO[/red]")
    Console(width=160).print(table)
    from osteoqsp.analyses.fracture_relation import fracture_relation, plot_fracture_relation

    with _status("virtual trials of the BMD-to-fracture relation"):
        relation = fracture_relation()
    rel = Table(title="fracture risk reduction against the total-hip BMD gain: model vs Bouxsein 2019's "
                      "meta-regression (women of 70, T -2.5, 3 years)")
    for col in ("intervention", "fracture", "TH gain", "FN gain", "LS gain", "model", "meta-regression",
                "residual"):
        rel.add_column(col)
    for row in relation.itertuples():
        rel.add_row(row.intervention, row.fracture, f"{row.total_hip_gain:.2f}", f"{row.femoral_neck_gain:.2f}",
                    f"{row.lumbar_spine_gain:.2f}", f"{row.model_reduction:.1f} %",
                    f"{row.meta_regression_reduction:.1f} %", f"{row.residual:+.1f} points")
    Console(width=160).print(rel)
    from osteoqsp.analyses.mbma import contrast_table

    with _status("the vitamin K trial contrasts"):
        trials = contrast_table()
    tt = Table(title=f"vitamin K trials (osteoqsp mbma): BMD contrasts inside their 95 % CI, typical magnitudes "
                     f"{int(trials.inside_typical.sum())}/{len(trials)}, posterior median "
                     f"{int(trials.inside_after.sum())}/{len(trials)}")
    for col in ("contrast", "observed", "95 % CI", "typical", "in", "posterior median", "in"):
        tt.add_column(col)
    for r in trials.itertuples():
        tt.add_row(r.contrast + ("" if r.fitted else " (not fitted)"), f"{r.observed:g}", f"{r.low:.2f} to {r.high:.2f}",
                   f"{r.typical:.2f}", "yes" if r.inside_typical else "[red]NO[/red]", f"{r.posterior_median:.2f}",
                   "yes" if r.inside_after else "[red]NO[/red]")
    Console(width=160).print(tt)
    if args.output:
        with staged_folder(args.output) as tmp:
            with open(tmp / "validation.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["target", "study", "endpoint", "observed", "unit", "low", "high", "interval",
                            "simulated", "residual", "inside", "scenario", "assumption"])
                for c in comparisons:
                    w.writerow([c.target, c.study, c.endpoint, c.observed, c.unit, c.low, c.high, c.interval,
                                f"{c.simulated:.6g}", f"{c.residual:.6g}", c.inside, c.scenario, c.assume])
            with open(tmp / "not_compared.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["target", "study", "endpoint", "value", "unit"])
                for row in missing:
                    w.writerow([row["target"], row["study"], row["endpoint"], row["value"], row["unit"]])
            relation.to_csv(tmp / "fracture_relation.csv", index=False, float_format="%.4g")
            trials.to_csv(tmp / "trial_contrasts.csv", index=False, float_format="%.4g")
            plot_fracture_relation(relation, tmp / "fracture_relation.png")
            overview_figure(comparisons, tmp / "validation.png")
            study_figures(comparisons, tmp / "figures")
        print(f"-> {args.output}/validation.csv, not_compared.csv, validation.png, fracture_relation.csv, "
              "fracture_relation.png, trial_contrasts.csv, figures/<study>.png")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="osteoqsp", description="Bone homeostasis under vitamin K2 (MK-7): simulate "
                                 "scenarios from intake to bone cells and BMD.")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="simulate one scenario file (or a built-in scenario name)")
    s.add_argument("scenario")
    s.add_argument("-o", "--output", required=True, help="output folder")
    s.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    s.add_argument("--resume", action="store_true",
                   help="population: go on from the finished chunks of an interrupted run (DIR.partial)")
    s.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="population: run the chunks on Dask (a LocalCluster, or the scheduler at ADDRESS)")
    s.add_argument("--rtol", type=float, default=None,
                   help="relative tolerance of the integrator (default 1e-7 for one subject, 5e-7 for a population)")
    s.add_argument("--method", choices=["dopri5", "rodas4", "split"], default=None,
                   help="integrator (default dopri5 for one subject, split for a population): dopri5 (explicit), "
                        "rodas4 (implicit), or split: the pharmacokinetics exactly by matrix exponentials and the "
                        "other states by RK4, 5-7x faster under daily doses (bench/README.md)")
    s.set_defaults(func=cmd_simulate)
    s = sub.add_parser("trial", help="a virtual trial: arms, n per arm, endpoints, estimates and power")
    s.add_argument("trial", help="trial file or built-in trial (knapen2013, theuwissen2012-dose-finding, mk7-hip-fracture)")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_trial)
    s = sub.add_parser("attribution", help="the effect vs placebo with each MK-7 pathway switched off in turn")
    s.add_argument("scenario")
    s.add_argument("--endpoints", default="bmd_lumbar_spine,bmd_femoral_neck",
                   help="comma-separated observables (default: lumbar spine and femoral neck BMD)")
    s.add_argument("-o", "--output", help="folder for attribution.csv and attribution.png")
    s.add_argument("--uncertainty", type=int, default=0, metavar="N",
                   help="also under N parameter sets of the shipped posterior: shares with 95 %% intervals")
    s.set_defaults(func=cmd_attribution)
    s = sub.add_parser("sensitivity", help="global sensitivity (SALib Morris or Sobol) of endpoints at the end")
    s.add_argument("scenario")
    s.add_argument("--method", choices=["morris", "sobol"], default="morris")
    s.add_argument("--n", type=int, default=10, help="Morris trajectories or Sobol base sample (power of 2)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--parameters", help="comma-separated (default: the parameters of the variability table)")
    s.add_argument("--endpoints", default="bmd_lumbar_spine,ucoc_ratio")
    s.add_argument("-o", "--output")
    s.add_argument("--uncertainty", type=int, default=0, metavar="N",
                   help="also around N parameter sets of the shipped posterior: indices and shares with intervals")
    s.set_defaults(func=cmd_sensitivity)
    s = sub.add_parser("report", help="one self-contained HTML file for an output folder")
    s.add_argument("folder")
    s.set_defaults(func=cmd_report)
    s = sub.add_parser("app", help="the dashboard in the browser (streamlit, on 127.0.0.1)")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--headless", action="store_true", help="do not open a browser")
    s.set_defaults(func=cmd_app)
    s = sub.add_parser("mbma", help="fit the bone-effect magnitudes to the vitamin K trials; sample their posterior")
    s.add_argument("-o", "--output", required=True, help="folder for posterior.csv, contrasts.csv, mbma.png")
    s.add_argument("--walkers", type=int, default=24, help="emcee walkers (default 24)")
    s.add_argument("--steps", type=int, default=300, help="steps per walker (default 300)")
    s.add_argument("--burn", type=int, default=150, help="steps discarded as burn-in (default 150)")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--install", action="store_true",
                   help="ship the draws as the package's posterior (params/posterior-human.csv)")
    s.add_argument("--keep", type=int, default=200, help="draws installed, thinned evenly (default 200)")
    s.add_argument("--no-claims", action="store_true",
                   help="the trials alone, without the review's claims as soft constraints")
    s.set_defaults(func=cmd_mbma)
    s = sub.add_parser("calibrate", help="fit the parameters marked fitted to the evidence targets")
    s.add_argument("-o", "--output", required=True, help="folder for calibrated.csv, residuals.csv, ...")
    s.add_argument("--species", choices=["human", "rat"], default="human")
    s.add_argument("--parameters", help="comma-separated (default: every parameter marked fitted)")
    s.add_argument("--targets", help="comma-separated target ids (default: every mapped target of the species)")
    s.add_argument("--starts", type=int, default=3, help="starts: the current values, then a Latin hypercube")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--max-nfev", type=int, default=60, help="objective evaluations per start")
    s.add_argument("--profile", type=int, default=0, metavar="N",
                   help="profile likelihood on N grid points per parameter (default: Wald intervals only)")
    s.add_argument("--prior-fold", type=float, default=3.0,
                   help="log-normal prior at the hand-set values, one SD = this factor (default 3; 1 = none)")
    s.add_argument("--from-shipped", action="store_true",
                   help="start from the shipped calibration (refine it) instead of the hand-set table values")
    s.add_argument("--no-constraints", action="store_true",
                   help="leave out the claims of evidence/constraints.yaml (counted by default unless --targets)")
    s.add_argument("--install", action="store_true",
                   help="write the result as the package's default parameter set (calibrated-SPECIES.csv)")
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_calibrate)
    s = sub.add_parser("validate", help="every evidence target: observed vs simulated, in or out of its interval")
    s.add_argument("-o", "--output", help="folder for validation.csv, not_compared.csv and validation.png")
    s.set_defaults(func=cmd_validate)
    s = sub.add_parser("scenarios", help="list the built-in scenarios")
    s.set_defaults(func=cmd_scenarios)
    s = sub.add_parser("export", help="export the model (sbml) for a scenario's subject, doses as events")
    s.add_argument("format", help="sbml (one scenario's subject) or petab (the calibration problem)")
    s.add_argument("scenario", nargs="?", help="scenario file or built-in name (default: a typical woman of 58)")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_export)
    return ap


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except (ScenarioError, UserError) as exc:
        print(f"osteoqsp: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # output paths: missing folder, no permission, a file where a folder should be
        print(f"osteoqsp: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (SteadyStateError, SolveError) as exc:  # parameters that leave the model without a solution
        print(f"osteoqsp: error: the model could not be solved for this scenario: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())


def entry() -> None:
    raise SystemExit(main())
