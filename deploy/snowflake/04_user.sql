-- 04  The user Airflow connects as, with key-pair authentication only. Run after 03, as
-- SECURITYADMIN. Create the key pair first (docs/real-cloud.md, step 2) and replace the placeholder
-- in the last statement with the body of rsa_key.pub (the base64 text between the BEGIN and END
-- lines, on one line). Never put the private key here or anywhere in the repository.
--
-- TYPE = SERVICE: a user for a program, which cannot log in with a password or through the web UI
-- (and is not asked for MFA). Idempotent: running the file again with the same key changes nothing.

USE ROLE SECURITYADMIN;

CREATE USER IF NOT EXISTS GENAI_AIRFLOW
    TYPE = SERVICE
    DEFAULT_ROLE = GENAI_PIPELINES
    DEFAULT_WAREHOUSE = GENAI_WH
    COMMENT = 'Airflow workers of the GenAI personalization pipelines (key-pair auth)';

-- CREATE ... IF NOT EXISTS leaves an existing user as it is: converge the defaults.
ALTER USER GENAI_AIRFLOW SET
    TYPE = SERVICE
    DEFAULT_ROLE = GENAI_PIPELINES
    DEFAULT_WAREHOUSE = GENAI_WH;

GRANT ROLE GENAI_PIPELINES TO USER GENAI_AIRFLOW;

-- Snowflake rejects a value that is not an RSA public key, so an unedited run stops here. To rotate
-- later: SET RSA_PUBLIC_KEY_2 to the new key, switch the Airflow connection, then UNSET RSA_PUBLIC_KEY
-- (docs/real-cloud.md).
ALTER USER GENAI_AIRFLOW SET RSA_PUBLIC_KEY = '<RSA_PUBLIC_KEY: body of rsa_key.pub, one line>';
