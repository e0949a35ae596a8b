"""The annual analysis report (issue 17): static HTML per statistics year, one page per municipality, and a PDF.

- `data`    reads the published marts (read-only) into plain frames for one year;
- `charts`  draws the figures with matplotlib (SVG, embedded as data URIs);
- `render`  fills the Jinja2 templates (autoescaping on) and writes `reports/<year>/`;
- `pdf`     prints the main report with headless Chromium when it is installed.

Nothing here imports Dagster; `orchestration/assets/report.py` and `boligsosial report` call `build_report`.
"""

from orchestration.report.render import ReportResult, build_report, reports_dir

__all__ = ["ReportResult", "build_report", "reports_dir"]
