# The open answers run through the Norwegian theme tagger (orchestration/qualitative/): see the YAML beside.
def model(dbt, session):
    dbt.config(materialized="table")
    from orchestration.qualitative.frames import answer_frame

    return answer_frame(dbt.ref("stg_programme__report_answers").df())
