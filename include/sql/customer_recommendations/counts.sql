-- One row of counts about the session's REC_TOP5 (compute.sql), read by the operator before it
-- publishes: the only thing a run fetches into Python. Parameters: database, top_n, reason_codes.
USE SCHEMA {{ database }}.ANALYTICS;

WITH per_customer AS (
    SELECT c.CUSTOMER_ID,
           COUNT(r.PRODUCT_ID) AS RECOMMENDED,
           MAX(CASE WHEN h.CUSTOMER_ID IS NULL THEN 1 ELSE 0 END) AS COLD_START
    FROM REC_CUSTOMERS AS c
    LEFT JOIN REC_TOP5 AS r ON r.CUSTOMER_ID = c.CUSTOMER_ID
    LEFT JOIN (SELECT DISTINCT CUSTOMER_ID FROM REC_HISTORY) AS h ON h.CUSTOMER_ID = c.CUSTOMER_ID
    GROUP BY c.CUSTOMER_ID
),
reasons AS (
    SELECT
{%- for reason in reason_codes %}
        COUNT(CASE WHEN REASON_CODE = '{{ reason }}' THEN 1 END) AS {{ reason }}{{ "," if not loop.last }}
{%- endfor %}
    FROM REC_TOP5
)
SELECT
    (SELECT COUNT(*) FROM per_customer)                                    AS CUSTOMERS,
    (SELECT COUNT(*) FROM per_customer WHERE RECOMMENDED < {{ top_n }})    AS CUSTOMERS_SHORT,
    (SELECT COUNT(*) FROM per_customer WHERE COLD_START = 1)               AS COLD_START,
    (SELECT COUNT(*) FROM REC_PRODUCTS)                                    AS PRODUCTS,
    (SELECT COUNT(*) FROM REC_LINES)                                       AS PURCHASE_LINES,
    (SELECT COUNT(*) FROM REC_TOP5)                                        AS ROWS_COMPUTED,
{%- for reason in reason_codes %}
    reasons.{{ reason }}{{ "," if not loop.last }}
{%- endfor %}
FROM reasons;
