{% include "shared/record_ledger.sql" %}
