"""Company knowledge (RAG): text extraction, token-aware chunking, planning of incremental refreshes.

Plain Python with no Airflow import, so it can be used and tested on its own.
"""
