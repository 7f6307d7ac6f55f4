-- One page of the session's pending reviews (select_pending.sql), by row number (pyformat binds).
SELECT PRODUCT_ID, REVIEW_ID, CONTENT_HASH, REVIEW_TITLE, REVIEW_CONTENT
FROM SENTIMENT_PENDING
WHERE SEQ BETWEEN %(first)s AND %(last)s
ORDER BY SEQ
