{#- Macros for bulk loads through an internal stage: PUT local files, COPY them into a session table.
    Import with {% import "shared/stage.sql" as stage %}. The local paths come from the operator's own
    temporary folder, never from data. -#}

{% macro put(local_path, stage_name, folder) -%}
PUT 'file://{{ local_path }}' @{{ stage_name }}/{{ folder }}/ AUTO_COMPRESS = FALSE OVERWRITE = TRUE;
{%- endmacro %}

{% macro copy_csv(table, stage_name, location) -%}
-- Values may be enclosed in double quotes; UTF-8 is the CSV default encoding (and fakesnow rejects
-- the ENCODING option). FORCE: the load history would otherwise skip a file
-- name seen before; PURGE: nothing stays staged.
COPY INTO {{ table }}
    FROM @{{ stage_name }}/{{ location }}
    FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '"')
    FORCE = TRUE PURGE = TRUE;
{%- endmacro %}
