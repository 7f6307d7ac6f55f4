-- Offline evaluation, part 2, after holdout.sql and compute.sql (run with lines = EVAL_TRAINING)
-- on the same session: hit-rate@5 of REC_TOP5 and of a popularity-only baseline, as one row of
-- counts. Baseline: the top_n catalog products bought in most training lines (ties: PRODUCT_ID)
-- that the customer has not bought. A hit: one of the customer's held-out products is in their
-- five. Parameters: database, top_n.
USE SCHEMA {{ database }}.ANALYTICS;

CREATE OR REPLACE TEMPORARY TABLE EVAL_POPULARITY_RANK AS
SELECT p.PRODUCT_ID,
       ROW_NUMBER() OVER (ORDER BY COUNT(t.PRODUCT_ID) DESC, p.PRODUCT_ID) AS POPULARITY_RANK
FROM REC_PRODUCTS AS p
LEFT JOIN EVAL_TRAINING AS t ON t.PRODUCT_ID = p.PRODUCT_ID
GROUP BY p.PRODUCT_ID;

-- a customer who bought n products can lose at most n of the top n + top_n
CREATE OR REPLACE TEMPORARY TABLE EVAL_POPULAR AS
SELECT CUSTOMER_ID, PRODUCT_ID
FROM (
    SELECT c.CUSTOMER_ID, r.PRODUCT_ID,
           ROW_NUMBER() OVER (PARTITION BY c.CUSTOMER_ID ORDER BY r.POPULARITY_RANK) AS RANK
    FROM EVAL_CUSTOMERS AS c
    JOIN EVAL_POPULARITY_RANK AS r ON r.POPULARITY_RANK <= c.BOUGHT + {{ top_n }}
    WHERE NOT EXISTS (
        SELECT 1 FROM EVAL_TRAINING AS t WHERE t.CUSTOMER_ID = c.CUSTOMER_ID AND t.PRODUCT_ID = r.PRODUCT_ID
    )
) AS ranked
WHERE RANK <= {{ top_n }};

SELECT
    (SELECT COUNT(*) FROM EVAL_CUSTOMERS) AS EVALUATED,
    (SELECT COUNT(DISTINCT r.CUSTOMER_ID)
       FROM REC_TOP5 AS r
       JOIN EVAL_CUSTOMERS AS c ON c.CUSTOMER_ID = r.CUSTOMER_ID
       JOIN EVAL_HELD_OUT AS h ON h.CUSTOMER_ID = r.CUSTOMER_ID AND h.PRODUCT_ID = r.PRODUCT_ID) AS HITS,
    (SELECT COUNT(DISTINCT r.CUSTOMER_ID)
       FROM EVAL_POPULAR AS r
       JOIN EVAL_HELD_OUT AS h ON h.CUSTOMER_ID = r.CUSTOMER_ID AND h.PRODUCT_ID = r.PRODUCT_ID) AS POPULAR_HITS,
    (SELECT COUNT(*)
       FROM EVAL_HELD_OUT AS h
       JOIN EVAL_CUSTOMERS AS c ON c.CUSTOMER_ID = h.CUSTOMER_ID) AS HELD_OUT;
