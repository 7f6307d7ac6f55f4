-- One row per (PRODUCT_ID, REVIEW_ID) into RAW.PRODUCT_REVIEWS. A review on several rows of the batch
-- (duplicate product rows carry the same reviews) is merged deterministically: the last copy (file
-- key, line, position in the row's lists) wins. A review already in the table is rewritten only when
-- its text or author changed; a changed text gets a new CONTENT_HASH, so its sentiment is measured
-- again. Ends with the batch's distinct review count for the run summary.
USE SCHEMA {{ database }}.RAW;

MERGE INTO {{ database }}.RAW.PRODUCT_REVIEWS AS t
USING (
    SELECT * FROM REVIEWS_INCOMING
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY PRODUCT_ID, REVIEW_ID ORDER BY SOURCE DESC, LINE_NUMBER DESC, ORDINAL DESC
    ) = 1
) AS s
    ON t.PRODUCT_ID = s.PRODUCT_ID AND t.REVIEW_ID = s.REVIEW_ID
WHEN MATCHED AND (
    t.CONTENT_HASH <> s.CONTENT_HASH OR t.USER_ID IS DISTINCT FROM s.USER_ID OR t.USER_NAME IS DISTINCT FROM s.USER_NAME
) THEN UPDATE SET
    USER_ID = s.USER_ID, USER_NAME = s.USER_NAME, REVIEW_TITLE = s.REVIEW_TITLE, REVIEW_CONTENT = s.REVIEW_CONTENT,
    CONTENT_HASH = s.CONTENT_HASH, SOURCE = s.SOURCE, LOADED_AT = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (
    PRODUCT_ID, REVIEW_ID, USER_ID, USER_NAME, REVIEW_TITLE, REVIEW_CONTENT, CONTENT_HASH, SOURCE, LOADED_AT
) VALUES (
    s.PRODUCT_ID, s.REVIEW_ID, s.USER_ID, s.USER_NAME, s.REVIEW_TITLE, s.REVIEW_CONTENT, s.CONTENT_HASH, s.SOURCE,
    CURRENT_TIMESTAMP()
);

SELECT COUNT(*) AS REVIEWS FROM (SELECT DISTINCT PRODUCT_ID, REVIEW_ID FROM REVIEWS_INCOMING) AS r;
