"""Airflow-facing building blocks of the GenAI personalization project: operators, hooks, assets.

Importing this package (or its operator modules) must stay cheap: provider hooks, pandas and
boto3 are imported inside the code that uses them, never at module level, because DAG files
import operators from here at every parse.
"""
