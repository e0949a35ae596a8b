# The theme taxonomy (orchestration/config/qualitative_themes.yaml) as a table: one row per theme and goal.
def model(dbt, session):
    dbt.config(materialized="table")
    from orchestration.qualitative.frames import taxonomy_frame

    return taxonomy_frame()
