-- Estimated input tokens (tiktoken) of the campaign's emails written with a model answer: per email
-- (a validation retry included) and per request.
SELECT AVG(ESTIMATED_INPUT_TOKENS), AVG(ESTIMATED_INPUT_TOKENS / ATTEMPTS)
FROM {{ database }}.MARKETING.EMAILS
WHERE CAMPAIGN_ID = '{{ campaign_id }}' AND ATTEMPTS > 0
