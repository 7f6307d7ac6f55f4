# Astro: `astro dev start` (local) and `astro deploy` build this. Not buildable on the development machines
# (no Docker engine). docker-compose.yaml builds Dockerfile.compose instead.
#
# Astro Runtime 3.3-8 is the Runtime release that ships Airflow 3.3.2, the version pinned in
# requirements-dev.txt (3.3-6 and 3.3-7 ship 3.3.1; tests/unit/test_deployment_files.py keeps the two in
# step). Runtime 3.3 images default to Python 3.14, for which lingua-language-detector 2.1.1 has no wheel;
# the -python-3.12 build is the nearest to the Python 3.11 the project is tested on, and every pin of
# requirements.txt + constraints.txt resolves to wheels for it.
#
# The image's ONBUILD steps install packages.txt (apt) and requirements.txt (pip/uv), and copy the project
# (minus .dockerignore) to /usr/local/airflow, which is AIRFLOW_HOME: dags/ and plugins/ are Airflow's own
# folders (plugins/ is on sys.path, so `genai_personalization` imports).
FROM astrocrpublic.azurecr.io/runtime:3.3-8-python-3.12

# `include` is imported as a package from the project root (from include.settings import Settings)
ENV PYTHONPATH="/usr/local/airflow${PYTHONPATH:+:${PYTHONPATH}}"
