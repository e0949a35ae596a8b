"""The annual report after publication: `reports/<latest year>/` from the warehouse just published.

`BOLIGSOSIAL_REPORT=off` leaves the report to `make report` (the test suite runs the pipeline many times and
renders the report once, in its own test).
"""

import os

import dagster as dg

from orchestration.assets.publish import published_warehouse


@dg.asset(
    key=["annual_report"],
    group_name="report",
    deps=[published_warehouse],
    kinds={"html"},
    description="The annual analysis report (HTML per statistics year, one page per municipality, PDF when "
                "Chromium is installed), rendered read-only from the published warehouse for the latest year.",
)
def annual_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    if os.environ.get("BOLIGSOSIAL_REPORT", "on").strip().lower() in {"off", "0", "false", "no"}:
        context.log.info("BOLIGSOSIAL_REPORT=off: report not rendered (make report renders it)")
        return dg.MaterializeResult(metadata={"skipped": "BOLIGSOSIAL_REPORT=off"})
    from orchestration.report import build_report  # its charting library: ≈ 0.7 s, only when it renders

    result = build_report()
    context.log.info(f"report {result.year}: {result.index} ({result.municipality_pages} municipality pages, "
                     f"{result.seconds:.1f} s){'' if result.pdf else f'; no PDF: {result.pdf_note}'}")
    return dg.MaterializeResult(metadata={
        "year": result.year, "index": dg.MetadataValue.path(str(result.index)),
        "municipality_pages": result.municipality_pages, "seconds": round(result.seconds, 1),
        "pdf": str(result.pdf) if result.pdf else f"not written: {result.pdf_note}",
        "synthetic": result.synthetic, "timings": dg.MetadataValue.json(result.timings)})
