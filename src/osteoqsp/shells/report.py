"""`osteoqsp report DIR`: one self-contained HTML file (figures embedded) for any output folder of
simulate (one subject or a population), trial, validate, attribution or sensitivity."""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

TABLES = ("summary-3y.csv", "estimates.csv", "differences.csv", "power_curve.csv", "validation.csv",
          "fracture_relation.csv", "attribution.csv", "sensitivity.csv", "calibrated.csv", "residuals.csv")
MAX_ROWS = 60


def _kind(folder: Path) -> str:
    if (folder / "timecourse.csv").exists():
        return "simulation (one subject)"
    if (folder / "timecourse.parquet").exists():
        return "simulation (virtual population)"
    for name, kind in (("differences.csv", "virtual trial"), ("validation.csv", "validation"),
                       ("calibrated.csv", "calibration"),
                       ("attribution.csv", "mechanism attribution"), ("sensitivity.csv", "sensitivity")):
        if (folder / name).exists():
            return kind
    return "output folder"


def _table(df: pd.DataFrame) -> str:
    more = f"<p class='note'>{len(df) - MAX_ROWS} more rows in the CSV file.</p>" if len(df) > MAX_ROWS else ""
    return df.head(MAX_ROWS).to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0) + more


def _key_numbers(folder: Path, units: dict[str, str]) -> str:
    """Start and end values of a one-subject time course (first and last rows), with units."""
    df = pd.read_csv(folder / "timecourse.csv")
    names = list(df.columns[1:])
    rows = pd.DataFrame({"observable": names, "unit": [units.get(n, "") for n in names],
                         "start": df.iloc[0, 1:].to_numpy(),
                         f"end (day {df['time_day'].iloc[-1]:g})": df.iloc[-1, 1:].to_numpy()})
    return _table(rows)


def _events(path: Path) -> str:
    """Per event type: subjects, how many had a first event by the end, and when (median, years)."""
    ev = pd.read_csv(path)
    rows = []
    for name, g in ev.groupby("event", sort=False):
        hit = g["time_day"].dropna()
        rows.append({"event": name, "subjects": len(g), "with a first event": len(hit),
                     "percent": 100 * len(hit) / max(len(g), 1),
                     "median time of those events (year)": hit.median() / 365.25 if len(hit) else float("nan")})
    return _table(pd.DataFrame(rows))


def build_report(folder: str | Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such output folder")
    parts = [f"<h1>osteoqsp report: {html.escape(folder.name)}</h1>",
             f"<p class='note'>{_kind(folder)}; folder {html.escape(str(folder.resolve()))}; written "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>"]
    run = folder / "run.json"
    if not run.exists() and (folder / "calibration.json").exists():
        run = folder / "calibration.json"
    prov: dict = {}
    if run.exists():
        prov = json.loads(run.read_text())
        scenario = prov.get("scenario") or prov.get("trial")
        if scenario:
            parts.append("<h2>Scenario</h2><pre>" + html.escape(json.dumps(scenario, indent=2)) + "</pre>")
    if (folder / "timecourse.csv").exists():
        parts.append("<h2>Key numbers</h2>" + _key_numbers(folder, prov.get("units") or {}))
    for name in TABLES:
        if (folder / name).exists():
            parts.append(f"<h2>{html.escape(name)}</h2>" + _table(pd.read_csv(folder / name, comment="#")))
    if (folder / "events.csv").exists():
        parts.append("<h2>First events (fractures) drawn per subject</h2>" + _events(folder / "events.csv"))
    if (folder / "summary.csv").exists():
        s = pd.read_csv(folder / "summary.csv")
        end = s[s["time_day"] == s["time_day"].max()]
        parts.append("<h2>Population summary at the end</h2>" + _table(end))
    figures = sorted(folder.glob("*.png")) + sorted(folder.glob("figures/*.png"))
    if figures:
        parts.append("<h2>Figures</h2>")
    for fig in figures:
        data = base64.b64encode(fig.read_bytes()).decode()
        parts.append(f"<figure><img alt='{html.escape(fig.stem)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{html.escape(str(fig.relative_to(folder)))}</figcaption></figure>")
    if run.exists():
        parts.append(f"<h2>Provenance ({run.name})</h2><details><summary>show</summary><pre>"
                     + html.escape(run.read_text()) + "</pre></details>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
             "img{max-width:100%}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}"
             ".note{color:#666;font-size:13px}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>osteoqsp report {html.escape(folder.name)}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")
    out = folder / "report.html"
    out.write_text(page)
    return out
