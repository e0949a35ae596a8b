"""Great Expectations suites as Dagster asset checks on the run's warehouse copy."""


import dagster as dg

from orchestration.quality.gx_runner import Suite, load_suites
from orchestration.resources import WarehouseResource


def _suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    schema, table = suite.table.split(".")

    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name=f"gx_{suite.name}",
        description=f"Great Expectations suite {suite.path.name if suite.path else suite.name}: {suite.description}",
        blocking=suite.severity == "ERROR",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from orchestration.quality.gx_runner import validate_table

        with warehouse.build(context).connect(read_only=True) as con:
            result = validate_table(con, suite)
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR if suite.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
            metadata={"rows": result.rows, "expectations": result.evaluated, "failed": len(result.failed),
                      "failures": dg.MetadataValue.json(result.failed)},
        )

    return _check


gx_checks = [_suite_check(s) for s in load_suites()]
