"""Load customer master CSVs from S3 into Snowflake RAW.CUSTOMERS, quarantining bad rows.

Hooks, settings and SQL steps come from S3ToSnowflakeOperator (operators/snowflake_steps.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from genai_personalization.operators.snowflake_steps import S3ToSnowflakeOperator, merge_counts
from include.customer_master import (
    CustomerFileError,
    LoadSummary,
    ParsedFile,
    build_batch,
    parse_customer_file,
    write_customers_csv,
    write_quarantine_csv,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

DAG_SQL = "customer_master_ingest"
# Customer master files are small (a row per customer); validating one in memory is the point:
# every bad row gets a precise reason. Anything bigger than this is not a customer master file.
MAX_FILE_BYTES = 512 * 1024 * 1024


class CustomerMasterLoadOperator(S3ToSnowflakeOperator):
    """Validate every ``<prefix>*.csv`` in the landing bucket and MERGE the good rows into RAW.CUSTOMERS.

    Files are read in (LastModified, key) order and a customer in several files takes the newest
    file's version. Good rows and quarantine rows go to Snowflake in bulk (PUT to an internal
    stage, COPY INTO session tables, MERGE); nothing is inserted row by row and no customer value
    is ever part of SQL text or bind parameters, both of which the hooks log.

    Returns a summary of counts (safe to log and push as XCom). A file with a wrong header or
    encoding fails the task without loading anything, since a retry cannot fix it.

    :param bucket: landing bucket (templated); default from GENAI_LANDING_BUCKET
    :param prefix: key prefix of the customer files (templated); only direct children ending in .csv
    :param database: Snowflake database (templated); default from GENAI_SNOWFLAKE_DATABASE
    :param snowflake_conn_id: default from GENAI_SNOWFLAKE_CONN_ID
    :param aws_conn_id: default from GENAI_AWS_CONN_ID
    """

    template_fields: Sequence[str] = (*S3ToSnowflakeOperator.template_fields, "prefix")
    dag_sql = DAG_SQL

    def __init__(self, *, prefix: str = "customers/", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix

    def execute(self, context: Context) -> dict[str, object]:
        bucket = self.resolve_bucket()
        database = self.resolve_database()

        keys = self._list_customer_files(bucket)
        self.log.info("found %d customer file(s) under s3://%s/%s", len(keys), bucket, self.prefix)
        try:
            parsed = [self._parse(bucket, key) for key in keys]
        except CustomerFileError as e:
            raise AirflowFailException(str(e)) from e
        batch = build_batch(parsed)

        with self.staging_folder(prefix="customer-master-") as folder:
            files = {name: folder / f"{name}.csv" for name in ("customers", "quarantine", "sources")}
            row_counts = {
                "customers": write_customers_csv(batch.customers, files["customers"]),
                "quarantine": write_quarantine_csv(batch.rejections, str(context["run_id"]), files["quarantine"]),
                "sources": len(batch.sources),
            }
            files["sources"].write_text("".join(f"{source}\n" for source in batch.sources), encoding="utf-8")
            inserted, updated = self._load(database, files, row_counts)

        summary = LoadSummary.of(batch, inserted=inserted, updated=updated).as_dict()
        self.log.info("customer master load summary: %s", json.dumps(summary, sort_keys=True))
        return summary

    def _list_customer_files(self, bucket: str) -> list[str]:
        """Keys of ``<prefix>*.csv``, oldest first (then by key), so 'newest file wins' is well defined."""
        objects = [
            obj
            for obj in self.s3_hook.iter_file_metadata(prefix=self.prefix, bucket_name=bucket)
            if obj["Key"].lower().endswith(".csv") and "/" not in obj["Key"][len(self.prefix):]
        ]
        for obj in objects:
            if obj["Size"] > MAX_FILE_BYTES:
                raise AirflowFailException(
                    f"{obj['Key']}: {obj['Size']} bytes is larger than a customer master file can be ({MAX_FILE_BYTES})"
                )
        return [obj["Key"] for obj in sorted(objects, key=lambda o: (o["LastModified"], o["Key"]))]

    def _parse(self, bucket: str, key: str) -> ParsedFile:
        data = self.s3_hook.get_key(key, bucket_name=bucket).get()["Body"].read()
        parsed = parse_customer_file(data, source_file=f"s3://{bucket}/{key}")
        self.log.info(
            "%s: %d row(s), %d valid customer(s), %d quarantined",
            key, parsed.rows_read, len(parsed.records), len(parsed.rejections),
        )
        return parsed

    def _load(self, database: str, files: dict[str, Path], row_counts: dict[str, int]) -> tuple[int, int]:
        """Run the SQL steps on one session (the staged batch lives in temporary tables)."""
        params: dict[str, Any] = {
            "database": database,
            # a folder per attempt: concurrent or retried attempts never read each other's files
            "stage_path": uuid.uuid4().hex,
            "files": {name: str(path) for name, path in files.items()},
            "row_counts": row_counts,
        }
        with closing(self.snowflake_hook.get_conn()) as conn:
            # created even when there is nothing to load, so downstream DAGs always find the tables
            self.run_step(conn, "create_objects", params)
            if not row_counts["sources"]:
                return 0, 0
            self.run_step(conn, "stage_batch", params)
            inserted, updated = merge_counts(self.run_step(conn, "merge_customers", params)[-1])
            self.run_step(conn, "merge_quarantine", params)
        return inserted, updated
