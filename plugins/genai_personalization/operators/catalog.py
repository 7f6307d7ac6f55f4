"""Load the product catalog (``catalog/*.csv``, Amazon Sales Dataset columns) from S3 into RAW.PRODUCTS and
RAW.PRODUCT_REVIEWS.

Hooks, settings and SQL steps come from S3ToSnowflakeOperator (operators/snowflake_steps.py); parsing,
validation and staging from include/catalog/; the load ledger is the POS pipeline's (include/pos/ledger.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

from genai_personalization.operators.snowflake_steps import S3ToSnowflakeOperator, merge_counts
from genai_personalization.sql import render_sql
from include.catalog import CATALOG_PREFIX, CatalogBatchWriter, StagedCatalog, is_catalog_file
from include.pos.ledger import FileVersion, LoadPlan, plan_loads

if TYPE_CHECKING:
    from airflow.sdk import Context

DAG_SQL = "product_reviews_sentiment"


class CatalogLoadOperator(S3ToSnowflakeOperator):
    """Load every catalog file under ``prefix`` that the load ledger does not hold yet.

    List ``<prefix>*.csv``, skip the file versions (file, ETag, size) in OPS.LOAD_LEDGER (one query),
    stream the rest as CSV and validate each row (include/catalog/parsing.py), write good rows,
    their reviews and quarantine rows to local CSV parts as they go; then PUT, COPY INTO session
    tables, MERGE products (one row per product id) and reviews (one per product and review id),
    merge the quarantine rows and record the files in the ledger. Nothing is inserted row by row and
    no record value reaches SQL text, bind parameters or the log.

    Returns a summary of counts, also logged.

    :param prefix: folder of the catalog files (templated), default ``catalog/``
    """

    template_fields: Sequence[str] = (*S3ToSnowflakeOperator.template_fields, "prefix")
    dag_sql = DAG_SQL

    def __init__(self, *, prefix: str = CATALOG_PREFIX, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix

    def execute(self, context: Context) -> dict[str, object]:
        bucket = self.resolve_bucket()
        database = self.resolve_database()
        candidates = [
            FileVersion.of(bucket, obj["Key"], obj["ETag"], obj["Size"])
            for obj in self.s3_hook.iter_file_metadata(prefix=self.prefix, bucket_name=bucket)
            if is_catalog_file(obj["Key"], self.prefix)
        ]
        with closing(self.snowflake_hook.get_conn()) as conn:
            plan = plan_loads(candidates, self._ledger(conn, database, bucket))
            self.log.info(
                "%d catalog file(s) under s3://%s/%s: %d to load, %d already loaded",
                len(candidates), bucket, self.prefix, len(plan.to_load), len(plan.already_loaded),
            )
            summary = self.load_files(conn, database, bucket, plan, str(context["run_id"]))
        self.log.info("catalog load summary: %s", json.dumps(summary, sort_keys=True))
        return summary

    def load_files(self, conn: Any, database: str, bucket: str, plan: LoadPlan, run_id: str) -> dict[str, object]:
        """Stream, validate, stage and merge ``plan.to_load`` on one Snowflake session."""
        summary: dict[str, object] = {
            "files_listed": len(plan.to_load) + len(plan.already_loaded), "files_skipped": len(plan.already_loaded),
            "files_loaded": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "review_lists_quarantined": 0,
            "products": 0, "products_inserted": 0, "products_updated": 0, "reviews": 0, "reviews_inserted": 0,
            "reviews_updated": 0, "quarantined_by_reason": {},
        }
        if not plan.to_load:
            return summary
        with self.staging_folder(prefix="catalog-") as folder:
            with CatalogBatchWriter(folder, run_id) as writer:
                for version in plan.to_load:
                    self._stream_into(writer, bucket, version)
                batch = writer.close()
            summary.update(self._merge_batch(conn, database, batch))
        summary.update({
            "files_loaded": len(batch.versions), "rows_read": batch.totals.rows, "rows_loaded": batch.totals.loaded,
            "rows_quarantined": batch.totals.rejected, "review_lists_quarantined": batch.totals.review_lists_rejected,
            "quarantined_by_reason": batch.rejected_by_reason,
        })
        return summary

    def _ledger(self, conn: Any, database: str, bucket: str) -> list[tuple[str, str, int]]:
        # The ledger must exist before it is read. The DAG's create_objects task made it already; running the
        # idempotent DDL again keeps this operator usable on its own.
        self.run_step(conn, "create_objects", {"database": database})
        with closing(conn.cursor()) as cursor:
            cursor.execute(render_sql(DAG_SQL, "loaded_files", database=database),
                           {"prefix": f"s3://{bucket}/{self.prefix}%"})
            return [(row[0], row[1], int(row[2])) for row in cursor.fetchall()]

    def _stream_into(self, writer: CatalogBatchWriter, bucket: str, listed: FileVersion) -> None:
        response = self.s3_hook.get_conn().get_object(Bucket=bucket, Key=listed.key)
        # the ledger records the version actually read, which may be newer than the listing
        version = FileVersion.of(bucket, listed.key, response["ETag"], response["ContentLength"])
        body = response["Body"]
        try:
            counts = writer.add_file(version, body)
        finally:
            body.close()
        self.log.info(
            "%s: %d row(s), %d loaded, %d quarantined, %d review(s), %d review list(s) quarantined",
            listed.key, counts.rows, counts.loaded, counts.rejected, counts.reviews, counts.review_lists_rejected,
        )

    def _merge_batch(self, conn: Any, database: str, batch: StagedCatalog) -> dict[str, int]:
        params: dict[str, Any] = {
            "database": database,
            # a folder per attempt: concurrent or retried attempts never read each other's files
            "stage_path": uuid.uuid4().hex,
            "files": {kind: [str(part) for part in parts] for kind, parts in batch.files.items()},
            "row_counts": batch.row_counts,
        }
        self.run_step(conn, "stage_batch", params)
        products_cursors = self.run_step(conn, "merge_products", params)
        products_inserted, products_updated = merge_counts(products_cursors[-2])
        _rows, products = products_cursors[-1].fetchone()
        reviews_cursors = self.run_step(conn, "merge_reviews", params)
        reviews_inserted, reviews_updated = merge_counts(reviews_cursors[-2])
        (reviews,) = reviews_cursors[-1].fetchone()
        self.run_step(conn, "merge_quarantine", params)
        self.run_step(conn, "record_ledger", params)
        return {
            "products": int(products), "products_inserted": products_inserted, "products_updated": products_updated,
            "reviews": int(reviews), "reviews_inserted": reviews_inserted, "reviews_updated": reviews_updated,
        }
