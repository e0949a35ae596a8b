{#
  A raw table that another loader may not have created yet (the file-drop sources, KLASS).

  Returns the relation when it exists, otherwise an empty stand-in with the announced columns, so the
  whole `dbt build` passes before the first file of a source has arrived; the models fill up on the
  first run after it has. With prefer_current, the loader's `<table>_current` view (the latest file per
  coverage value, see orchestration/sources/inbox.py) is used when it exists, else the table itself.
  Every candidate is still referenced through source(), so lineage and docs show the dependency.

  Columns of an existing relation that the model expects but the loader did not write are added as
  typed nulls (`optional_columns`), so an announced-but-renamed column does not break the build.
#}
{% macro optional_source(source_name, table_name, columns, prefer_current=false) %}
    {%- set candidates = [table_name ~ '_current', table_name] if prefer_current else [table_name] -%}
    {%- set ns = namespace(found=none) -%}
    {%- for name in candidates -%}
        {%- set rel = source(source_name, name) -%}
        {%- if execute and ns.found is none -%}
            {%- set existing = adapter.get_relation(database=rel.database, schema=rel.schema, identifier=rel.identifier) -%}
            {%- if existing is not none -%}{%- set ns.found = rel -%}{%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if ns.found is not none -%}
        {%- set present = adapter.get_columns_in_relation(ns.found) | map(attribute='name') | map('lower') | list -%}
        {%- set missing = [] -%}
        {%- for name in columns -%}{%- if name | lower not in present -%}{%- do missing.append(name) -%}{%- endif -%}{%- endfor -%}
        {%- if missing -%}
            {%- do log("optional_source: " ~ ns.found ~ " lacks " ~ missing | join(', ') ~ "; read as nulls", info=true) -%}
    (select *{% for name in missing %}, cast(null as {{ columns[name] }}) as {{ name }}{% endfor %} from {{ ns.found }})
        {%- else -%}
    {{ ns.found }}
        {%- endif -%}
    {%- else -%}
        {%- if execute -%}{%- do log("optional_source: " ~ source_name ~ "." ~ table_name ~ " does not exist yet; using an empty stand-in", info=true) -%}{%- endif -%}
    (select {% for name, type in columns.items() %}cast(null as {{ type }}) as {{ name }}{{ ", " if not loop.last }}{% endfor %} where false)
    {%- endif -%}
{% endmacro %}
