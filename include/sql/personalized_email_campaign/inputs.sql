-- Which of the campaign's input tables exist (the operator names the pipeline to run for a missing one).
SELECT TABLE_SCHEMA, TABLE_NAME
FROM {{ database }}.INFORMATION_SCHEMA.TABLES
WHERE (TABLE_SCHEMA, TABLE_NAME) IN (('RAW', 'CUSTOMERS'), ('RAW', 'PRODUCTS'), ('ANALYTICS', 'RECOMMENDATIONS'),
                                     ('ANALYTICS', 'CUSTOMER_PURCHASE_HISTORY'))
