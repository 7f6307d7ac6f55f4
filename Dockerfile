# Astro Runtime for Airflow 3.3 (the Airflow version pinned in requirements-dev.txt). The runtime
# image's ONBUILD steps install packages.txt and requirements.txt and copy dags/, plugins/ and
# include/; nothing else is needed here. Not buildable on the development machines (no Docker
# engine): checked by `astro dev start` / `astro deploy` on a machine that has one.
FROM astrocrpublic.azurecr.io/runtime:3.3-1
