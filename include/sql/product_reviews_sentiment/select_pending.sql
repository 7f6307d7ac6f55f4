-- The reviews that need a sentiment verdict, computed in Snowflake with one query: those without a
-- CURATED.REVIEW_SENTIMENT row for their (PRODUCT_ID, REVIEW_ID, CONTENT_HASH). A new review is
-- pending, a review whose text changed is pending again, an analysed one is not (so a re-run sends
-- nothing). Reviews without any text are left out: there is nothing to analyse.
-- The session table numbers them (SEQ) so the operator can fetch them page by page with nothing but
-- row numbers as bind values. Ends with the count.
USE SCHEMA {{ database }}.CURATED;

CREATE OR REPLACE TEMPORARY TABLE SENTIMENT_PENDING AS
SELECT r.PRODUCT_ID, r.REVIEW_ID, r.CONTENT_HASH, r.REVIEW_TITLE, r.REVIEW_CONTENT,
       ROW_NUMBER() OVER (ORDER BY r.PRODUCT_ID, r.REVIEW_ID) AS SEQ
FROM {{ database }}.RAW.PRODUCT_REVIEWS AS r
LEFT JOIN {{ database }}.CURATED.REVIEW_SENTIMENT AS s
    ON s.PRODUCT_ID = r.PRODUCT_ID AND s.REVIEW_ID = r.REVIEW_ID AND s.CONTENT_HASH = r.CONTENT_HASH
WHERE s.PRODUCT_ID IS NULL
  AND TRIM(COALESCE(r.REVIEW_TITLE, '') || COALESCE(r.REVIEW_CONTENT, '')) <> '';

SELECT COUNT(*) AS PENDING FROM SENTIMENT_PENDING;
