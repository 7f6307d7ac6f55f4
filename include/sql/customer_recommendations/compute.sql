-- Top-5 products per customer, computed in the warehouse into the session table REC_TOP5
-- (CUSTOMER_ID, RANK, PRODUCT_ID, SCORE, REASON_CODE). Nothing is written to a permanent table
-- here: publish.sql replaces the as-of date's rows with REC_TOP5 in one transaction, and the
-- offline evaluation (evaluate.sql) scores REC_TOP5 against held-out purchases. Both run this very
-- file, so the evaluation measures the production query.
--
-- Parameters (validated by include/recommendations/config.py; identifiers, a timestamp, numbers):
--   database        ANALYTICS is the session schema for the temporary tables
--   lines           purchase lines with CUSTOMER_ID, EVENT_ID, EVENT_TS, PRODUCT_ID
--                   (production: CURATED.PURCHASE_LINES; evaluation: the lines minus each
--                   customer's last purchase)
--   customers       who gets recommendations besides every customer with purchases: RAW.CUSTOMERS
--                   in production (cold start: a customer without purchases gets the fill-up), none
--                   in the evaluation
--   cutoff          ISO timestamp: purchases at or after it are ignored (the end of the as-of date)
--   recent_days, history_days, popularity_days, neighbours, min_together, history_products,
--   top_categories, category_candidates, fill_candidates, w_*  see RecommendationConfig; top_n = 5
--
-- The score of a (customer, product) candidate adds four parts:
--   BOUGHT_TOGETHER    w_bought_together * sum, over the customer's recent products, of the
--                      product's basket similarity to them (cosine over events: baskets holding
--                      both / sqrt(baskets holding each))
--   CATEGORY_AFFINITY  w_category * share of the customer's purchase lines in the product's
--                      category (CATEGORY_PATH, the leaf; CATEGORY if there is no path)
--   POPULAR            w_popularity * ln(1 + buyers) / ln(1 + most buyers of any product)
--   TOP_RATED          w_quality * quality in -1..1: the mean of the catalog rating, (RATING - 3) / 2
--                      damped by RATING_COUNT / (RATING_COUNT + 10), and review sentiment, the sum of
--                      (POSITIVE - NEGATIVE) over reviews / (reviews + 2). Poorly rated, badly reviewed
--                      products lose up to w_quality; products without ratings or reviews get 0.
-- REASON_CODE is the largest part (ties: the order above). Products the customer bought within
-- recent_days of the cut-off are never candidates; only products in RAW.PRODUCTS are. Scores are
-- rounded to 9 decimals and ties broken by PRODUCT_ID, so the ranking is the same on every run.
-- Candidates come from co-purchase neighbours, the customer's top categories and the best products
-- overall, so the work grows with customers, not customers x products; a customer left with fewer
-- than top_n candidates (everything popular bought recently) is topped up from the whole catalog.
{%- set cutoff_ts = "'" ~ cutoff ~ "'::TIMESTAMP_TZ" %}
{%- set quality = "(" ~ w_quality ~ " * p.QUALITY)" %}
{%- set popularity = "(" ~ w_popularity ~ " * p.POPULARITY)" %}
USE SCHEMA {{ database }}.ANALYTICS;

-- purchase lines that count: before the cut-off, within the history window, with a customer
CREATE OR REPLACE TEMPORARY TABLE REC_LINES AS
SELECT l.CUSTOMER_ID, l.EVENT_ID, l.EVENT_TS, l.PRODUCT_ID
FROM {{ lines }} AS l
WHERE l.CUSTOMER_ID IS NOT NULL
  AND l.PRODUCT_ID IS NOT NULL
  AND l.EVENT_TS < {{ cutoff_ts }}
  AND l.EVENT_TS >= DATEADD(day, -{{ history_days }}, {{ cutoff_ts }});

-- the catalog with popularity and quality, one row per product
CREATE OR REPLACE TEMPORARY TABLE REC_PRODUCTS AS
WITH catalog AS (
    SELECT PRODUCT_ID,
           MIN(COALESCE(NULLIF(CATEGORY_PATH, ''), NULLIF(CATEGORY, ''))) AS CATEGORY_KEY,
           MAX(RATING)       AS RATING,
           MAX(RATING_COUNT) AS RATING_COUNT
    FROM {{ database }}.RAW.PRODUCTS
    WHERE PRODUCT_ID IS NOT NULL
    GROUP BY PRODUCT_ID
),
reviews AS (  -- the latest analysis of each review
    SELECT PRODUCT_ID, REVIEW_ID, POSITIVE, NEGATIVE
    FROM {{ database }}.CURATED.REVIEW_SENTIMENT
    QUALIFY ROW_NUMBER() OVER (PARTITION BY PRODUCT_ID, REVIEW_ID ORDER BY ANALYZED_AT DESC, CONTENT_HASH) = 1
),
sentiment AS (
    SELECT PRODUCT_ID,
           SUM(COALESCE(POSITIVE, 0) - COALESCE(NEGATIVE, 0)) / (COUNT(*) + 2) AS SENTIMENT
    FROM reviews
    GROUP BY PRODUCT_ID
),
buyers AS (
    SELECT PRODUCT_ID, COUNT(DISTINCT CUSTOMER_ID) AS BUYERS
    FROM REC_LINES
    WHERE EVENT_TS >= DATEADD(day, -{{ popularity_days }}, {{ cutoff_ts }})
    GROUP BY PRODUCT_ID
),
scored AS (
    SELECT c.PRODUCT_ID,
           c.CATEGORY_KEY,
           COALESCE(b.BUYERS, 0) AS BUYERS,
           (
               COALESCE((LEAST(GREATEST(c.RATING, 1), 5) - 3) / 2, 0)
                   * COALESCE(c.RATING_COUNT / (c.RATING_COUNT + 10.0), CASE WHEN c.RATING IS NULL THEN 0 ELSE 0.5 END)
               + COALESCE(s.SENTIMENT, 0)
           ) / 2 AS QUALITY
    FROM catalog AS c
    LEFT JOIN sentiment AS s ON s.PRODUCT_ID = c.PRODUCT_ID
    LEFT JOIN buyers AS b ON b.PRODUCT_ID = c.PRODUCT_ID
)
SELECT PRODUCT_ID,
       CATEGORY_KEY,
       BUYERS,
       COALESCE(LN(1 + BUYERS) / NULLIF(LN(1 + MAX(BUYERS) OVER ()), 0), 0)::FLOAT AS POPULARITY,
       QUALITY::FLOAT AS QUALITY
FROM scored;

-- what each customer bought (catalog or not): recency for co-purchase seeds and the exclusion
CREATE OR REPLACE TEMPORARY TABLE REC_HISTORY AS
SELECT CUSTOMER_ID, PRODUCT_ID, LAST_BOUGHT,
       ROW_NUMBER() OVER (PARTITION BY CUSTOMER_ID ORDER BY LAST_BOUGHT DESC, PRODUCT_ID) AS RECENCY_RANK,
       LAST_BOUGHT >= DATEADD(day, -{{ recent_days }}, {{ cutoff_ts }}) AS EXCLUDED
FROM (
    SELECT CUSTOMER_ID, PRODUCT_ID, MAX(EVENT_TS) AS LAST_BOUGHT
    FROM REC_LINES
    GROUP BY CUSTOMER_ID, PRODUCT_ID
) AS h;

-- who gets recommendations
CREATE OR REPLACE TEMPORARY TABLE REC_CUSTOMERS AS
SELECT DISTINCT CUSTOMER_ID FROM REC_LINES
{%- if customers %}
UNION
SELECT CUSTOMER_ID FROM {{ customers }} WHERE CUSTOMER_ID IS NOT NULL
{%- endif %};

-- share of each customer's catalog purchase lines per category, their top categories only
CREATE OR REPLACE TEMPORARY TABLE REC_AFFINITY AS
SELECT CUSTOMER_ID, CATEGORY_KEY, AFFINITY
FROM (
    SELECT l.CUSTOMER_ID,
           p.CATEGORY_KEY,
           (COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY l.CUSTOMER_ID))::FLOAT AS AFFINITY,
           ROW_NUMBER() OVER (PARTITION BY l.CUSTOMER_ID ORDER BY COUNT(*) DESC, p.CATEGORY_KEY) AS CATEGORY_RANK
    FROM REC_LINES AS l
    JOIN REC_PRODUCTS AS p ON p.PRODUCT_ID = l.PRODUCT_ID
    WHERE p.CATEGORY_KEY IS NOT NULL
    GROUP BY l.CUSTOMER_ID, p.CATEGORY_KEY
) AS a
WHERE CATEGORY_RANK <= {{ top_categories }};

-- products bought together: pairs sharing at least min_together baskets, best neighbours per product
CREATE OR REPLACE TEMPORARY TABLE REC_BASKETS AS
SELECT DISTINCT l.EVENT_ID, l.PRODUCT_ID
FROM REC_LINES AS l
JOIN REC_PRODUCTS AS p ON p.PRODUCT_ID = l.PRODUCT_ID;

CREATE OR REPLACE TEMPORARY TABLE REC_NEIGHBOURS AS
WITH baskets AS (
    SELECT PRODUCT_ID, COUNT(*) AS BASKETS FROM REC_BASKETS GROUP BY PRODUCT_ID
),
pairs AS (
    SELECT a.PRODUCT_ID, b.PRODUCT_ID AS PARTNER_ID, COUNT(*) AS TOGETHER
    FROM REC_BASKETS AS a
    JOIN REC_BASKETS AS b ON b.EVENT_ID = a.EVENT_ID AND b.PRODUCT_ID <> a.PRODUCT_ID
    GROUP BY a.PRODUCT_ID, b.PRODUCT_ID
    HAVING COUNT(*) >= {{ min_together }}
)
SELECT pr.PRODUCT_ID, pr.PARTNER_ID,
       (pr.TOGETHER / SQRT(ba.BASKETS * bb.BASKETS))::FLOAT AS SIMILARITY
FROM pairs AS pr
JOIN baskets AS ba ON ba.PRODUCT_ID = pr.PRODUCT_ID
JOIN baskets AS bb ON bb.PRODUCT_ID = pr.PARTNER_ID
QUALIFY ROW_NUMBER() OVER (PARTITION BY pr.PRODUCT_ID ORDER BY SIMILARITY DESC, pr.PARTNER_ID) <= {{ neighbours }};

-- the best products of each category, and overall, by popularity and quality
CREATE OR REPLACE TEMPORARY TABLE REC_CATEGORY_TOP AS
SELECT p.CATEGORY_KEY, p.PRODUCT_ID
FROM REC_PRODUCTS AS p
WHERE p.CATEGORY_KEY IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY p.CATEGORY_KEY ORDER BY ROUND({{ popularity }} + {{ quality }}, 9) DESC, p.PRODUCT_ID
) <= {{ category_candidates }};

CREATE OR REPLACE TEMPORARY TABLE REC_FILL_TOP AS
SELECT p.PRODUCT_ID
FROM REC_PRODUCTS AS p
QUALIFY ROW_NUMBER() OVER (ORDER BY ROUND({{ popularity }} + {{ quality }}, 9) DESC, p.PRODUCT_ID) <= {{ fill_candidates }};

-- co-purchase parts, from the customer's most recent products
CREATE OR REPLACE TEMPORARY TABLE REC_BOUGHT_TOGETHER AS
SELECT h.CUSTOMER_ID, n.PARTNER_ID AS PRODUCT_ID, SUM(n.SIMILARITY)::FLOAT AS SIMILARITY
FROM REC_HISTORY AS h
JOIN REC_NEIGHBOURS AS n ON n.PRODUCT_ID = h.PRODUCT_ID
WHERE h.RECENCY_RANK <= {{ history_products }}
GROUP BY h.CUSTOMER_ID, n.PARTNER_ID;

-- candidates: co-purchase partners (with their similarity), the top of the customer's categories,
-- the best overall
CREATE OR REPLACE TEMPORARY TABLE REC_CANDIDATES AS
SELECT CUSTOMER_ID, PRODUCT_ID, MAX(SIMILARITY) AS SIMILARITY
FROM (
    SELECT CUSTOMER_ID, PRODUCT_ID, SIMILARITY FROM REC_BOUGHT_TOGETHER
    UNION ALL
    SELECT a.CUSTOMER_ID, t.PRODUCT_ID, NULL
    FROM REC_AFFINITY AS a
    JOIN REC_CATEGORY_TOP AS t ON t.CATEGORY_KEY = a.CATEGORY_KEY
    UNION ALL
    SELECT c.CUSTOMER_ID, f.PRODUCT_ID, NULL
    FROM REC_CUSTOMERS AS c
    CROSS JOIN REC_FILL_TOP AS f
) AS c
GROUP BY CUSTOMER_ID, PRODUCT_ID;

-- customers left with fewer than top_n candidates once recent purchases are taken out (even none)
-- get the rest of the catalog as candidates (few customers, so the cross join stays small)
INSERT INTO REC_CANDIDATES (CUSTOMER_ID, PRODUCT_ID, SIMILARITY)
SELECT s.CUSTOMER_ID, p.PRODUCT_ID, NULL
FROM (
    SELECT u.CUSTOMER_ID
    FROM REC_CUSTOMERS AS u
    LEFT JOIN REC_CANDIDATES AS c ON c.CUSTOMER_ID = u.CUSTOMER_ID
    LEFT JOIN REC_HISTORY AS h
        ON h.CUSTOMER_ID = c.CUSTOMER_ID AND h.PRODUCT_ID = c.PRODUCT_ID AND h.EXCLUDED
    GROUP BY u.CUSTOMER_ID
    HAVING COUNT(CASE WHEN c.PRODUCT_ID IS NOT NULL AND h.CUSTOMER_ID IS NULL THEN 1 END) < {{ top_n }}
) AS s
CROSS JOIN REC_PRODUCTS AS p
WHERE NOT EXISTS (
    SELECT 1 FROM REC_CANDIDATES AS x WHERE x.CUSTOMER_ID = s.CUSTOMER_ID AND x.PRODUCT_ID = p.PRODUCT_ID
);

-- score, drop recent purchases, rank
CREATE OR REPLACE TEMPORARY TABLE REC_TOP5 AS
WITH parts AS (
    SELECT c.CUSTOMER_ID,
           c.PRODUCT_ID,
           {{ w_bought_together }} * COALESCE(c.SIMILARITY, 0) AS BOUGHT_TOGETHER,
           {{ w_category }} * COALESCE(a.AFFINITY, 0)          AS CATEGORY_AFFINITY,
           {{ quality }}                                        AS TOP_RATED,
           {{ popularity }}                                     AS POPULAR
    FROM REC_CANDIDATES AS c
    JOIN REC_PRODUCTS AS p ON p.PRODUCT_ID = c.PRODUCT_ID
    LEFT JOIN REC_AFFINITY AS a ON a.CUSTOMER_ID = c.CUSTOMER_ID AND a.CATEGORY_KEY = p.CATEGORY_KEY
    LEFT JOIN REC_HISTORY AS h ON h.CUSTOMER_ID = c.CUSTOMER_ID AND h.PRODUCT_ID = c.PRODUCT_ID
    WHERE COALESCE(h.EXCLUDED, FALSE) = FALSE
),
scored AS (
    SELECT CUSTOMER_ID,
           PRODUCT_ID,
           ROUND(BOUGHT_TOGETHER + CATEGORY_AFFINITY + TOP_RATED + POPULAR, 9)::FLOAT AS SCORE,
           CASE
               WHEN BOUGHT_TOGETHER > 0 AND BOUGHT_TOGETHER >= GREATEST(CATEGORY_AFFINITY, TOP_RATED, POPULAR)
                   THEN 'BOUGHT_TOGETHER'
               WHEN CATEGORY_AFFINITY > 0 AND CATEGORY_AFFINITY >= GREATEST(TOP_RATED, POPULAR)
                   THEN 'CATEGORY_AFFINITY'
               WHEN TOP_RATED > POPULAR THEN 'TOP_RATED'
               ELSE 'POPULAR'
           END AS REASON_CODE
    FROM parts
)
SELECT CUSTOMER_ID, RANK, PRODUCT_ID, SCORE, REASON_CODE
FROM (
    SELECT CUSTOMER_ID,
           ROW_NUMBER() OVER (PARTITION BY CUSTOMER_ID ORDER BY SCORE DESC, PRODUCT_ID) AS RANK,
           PRODUCT_ID,
           SCORE,
           REASON_CODE
    FROM scored
) AS ranked
WHERE RANK <= {{ top_n }};
