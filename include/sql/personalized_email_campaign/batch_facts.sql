-- Everything one batch's emails are written from, in ONE query: per customer still to write (see
-- _macros.batch_customers), one row per recommended product of their latest recommendations, with
-- the customer, the purchase history and the product's catalog facts. A customer without any
-- recommendation row comes back once with a NULL product; a recommended product missing from the
-- catalog with a NULL name.
{% import "personalized_email_campaign/_macros.sql" as m %}
{%- set customers = m.batch_customers(database, campaign_id, run_id, batch_no, final_statuses) %}
SELECT c.CUSTOMER_ID, c.FIRST_NAME, c.LAST_NAME, c.PREFERRED_LANGUAGE, c.COUNTRY, c.MARKETING_CONSENT,
       h.ORDER_COUNT, TO_JSON(h.FAVOURITE_CATEGORIES) AS FAVOURITE_CATEGORIES,
       h.LAST_PURCHASE_AT,
       r.RANK, r.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY,
       COALESCE(p.DISCOUNTED_PRICE, p.ACTUAL_PRICE) AS PRICE, p.CURRENCY, p.RATING,
       LEFT(p.ABOUT_PRODUCT, {{ about_chars | int + 200 }}) AS ABOUT_PRODUCT
FROM ({{ customers }}) AS b
JOIN {{ database }}.RAW.CUSTOMERS AS c ON c.CUSTOMER_ID = b.CUSTOMER_ID
LEFT JOIN {{ database }}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY AS h ON h.CUSTOMER_ID = b.CUSTOMER_ID
LEFT JOIN ({{ m.latest_recommendations(database, customers) }}) AS r ON r.CUSTOMER_ID = b.CUSTOMER_ID
LEFT JOIN {{ database }}.RAW.PRODUCTS AS p ON p.PRODUCT_ID = r.PRODUCT_ID
ORDER BY c.CUSTOMER_ID, r.RANK
