-- Record the configured set (bind parameters: set_name, model_id, dimensions, table_name). A new set
-- starts as 'building'; a set that was retired or dropped and is configured again is rebuilt. An
-- existing building or active set is left as it is: no write.
MERGE INTO {{ database }}.RAG.EMBEDDING_SETS AS t
USING (
    SELECT %(set_name)s AS SET_NAME, %(model_id)s AS MODEL_ID, %(dimensions)s AS DIMENSIONS, %(table_name)s AS TABLE_NAME
) AS s
    ON t.SET_NAME = s.SET_NAME
WHEN MATCHED AND t.STATUS IN ('retired', 'dropped') THEN UPDATE SET STATUS = 'building', RETIRED_AT = NULL
WHEN NOT MATCHED THEN INSERT (SET_NAME, MODEL_ID, DIMENSIONS, TABLE_NAME, STATUS, CREATED_AT, ACTIVATED_AT, RETIRED_AT)
    VALUES (s.SET_NAME, s.MODEL_ID, s.DIMENSIONS, s.TABLE_NAME, 'building', CURRENT_TIMESTAMP(), NULL, NULL)
