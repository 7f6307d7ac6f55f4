-- The ledger's file versions under the catalog prefix: one query for every listed file. The prefix
-- is a bind parameter (pyformat), not spliced text.
SELECT SOURCE, ETAG, SIZE_BYTES
FROM {{ database }}.OPS.LOAD_LEDGER
WHERE SOURCE LIKE %(prefix)s
