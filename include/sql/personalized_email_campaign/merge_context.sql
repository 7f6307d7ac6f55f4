-- Stage the chunks retrieved for some products (PRODUCT_ID, RANK, CHUNK_ID, SCORE; RANK 0 and no
-- chunk when nothing was found) and replace those products' rows for the campaign.
{% import "shared/stage.sql" as stage %}
{%- set stage_name = database ~ ".MARKETING.CAMPAIGN_STAGE" %}
USE SCHEMA {{ database }}.MARKETING;

CREATE OR REPLACE TEMPORARY TABLE CAMPAIGN_CONTEXT_INCOMING (PRODUCT_ID VARCHAR, RANK INTEGER, CHUNK_ID VARCHAR, SCORE FLOAT);
{{ stage.put(file, stage_name, stage_path) }}
{{ stage.copy_csv("CAMPAIGN_CONTEXT_INCOMING", stage_name, stage_path ~ "/") }}

DELETE FROM {{ database }}.MARKETING.CAMPAIGN_CONTEXT
WHERE CAMPAIGN_ID = '{{ campaign_id }}' AND PRODUCT_ID IN (SELECT PRODUCT_ID FROM CAMPAIGN_CONTEXT_INCOMING);

INSERT INTO {{ database }}.MARKETING.CAMPAIGN_CONTEXT (CAMPAIGN_ID, PRODUCT_ID, RANK, CHUNK_ID, SCORE, RETRIEVED_AT)
SELECT '{{ campaign_id }}', PRODUCT_ID, RANK, CHUNK_ID, SCORE, CURRENT_TIMESTAMP()
FROM CAMPAIGN_CONTEXT_INCOMING;
