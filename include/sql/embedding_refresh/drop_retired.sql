-- A set retired by an earlier run has had a whole run's grace for readers that still held it:
-- its table goes. Parameters: set_name, table_name (identifiers read from RAG.EMBEDDING_SETS).
DROP TABLE IF EXISTS {{ database }}.RAG.{{ table_name }};
UPDATE {{ database }}.RAG.EMBEDDING_SETS SET STATUS = 'dropped' WHERE SET_NAME = '{{ set_name }}' AND STATUS = 'retired';
