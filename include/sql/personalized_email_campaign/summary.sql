-- The campaign's emails by status (all runs), how many of this run's audience have no email
-- row at all (selected, never written: a batch that did not finish), and whether this run selected
-- an audience at all (no CAMPAIGN_RUNS row: select_audience did not finish).
SELECT e.STATUS, COUNT(*) AS EMAILS, COUNT_IF(e.LANGUAGE_FALLBACK) AS LANGUAGE_FALLBACKS
FROM {{ database }}.MARKETING.EMAILS AS e
WHERE e.CAMPAIGN_ID = '{{ campaign_id }}'
GROUP BY e.STATUS
UNION ALL
SELECT 'missing', COUNT(*), 0
FROM {{ database }}.MARKETING.CAMPAIGN_AUDIENCE AS a
LEFT JOIN {{ database }}.MARKETING.EMAILS AS e ON e.CAMPAIGN_ID = a.CAMPAIGN_ID AND e.CUSTOMER_ID = a.CUSTOMER_ID
WHERE a.CAMPAIGN_ID = '{{ campaign_id }}' AND a.RUN_ID = '{{ run_id }}' AND e.CUSTOMER_ID IS NULL
UNION ALL
SELECT 'selected', COUNT(*), 0
FROM {{ database }}.MARKETING.CAMPAIGN_RUNS
WHERE CAMPAIGN_ID = '{{ campaign_id }}' AND RUN_ID = '{{ run_id }}'
