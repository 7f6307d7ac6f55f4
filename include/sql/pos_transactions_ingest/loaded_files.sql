-- The ledger's file versions under this run's hour prefixes: one query for every listed file.
-- The prefixes are bind parameters (pyformat), not spliced text.
SELECT SOURCE, ETAG, SIZE_BYTES
FROM {{ database }}.OPS.LOAD_LEDGER
WHERE SOURCE LIKE %(previous_hour)s OR SOURCE LIKE %(current_hour)s
