{% include "shared/merge_quarantine.sql" %}
