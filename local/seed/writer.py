"""The only I/O: put generated files into an S3 bucket (through the amazon provider's
S3Hook, so the aws connection decides between real S3 and the local moto server) or into
a local directory."""

from __future__ import annotations

from pathlib import Path


def write_to_bucket(files: dict[str, bytes], bucket: str, aws_conn_id: str) -> None:
    # Imported here: the provider hook costs ~2 s to import and --out-dir does not need it.
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id=aws_conn_id)
    if not hook.check_for_bucket(bucket):
        hook.create_bucket(bucket_name=bucket)
    for key, data in files.items():
        hook.load_bytes(data, key=key, bucket_name=bucket, replace=True)


def write_to_dir(files: dict[str, bytes], out_dir: Path) -> None:
    for key, data in files.items():
        path = out_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
