"""The campaign DAG's shape: tasks in order, the map over select_audience's batches, the bedrock pool, params."""

from __future__ import annotations

from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_the_campaign_dag_maps_generation_over_batches_in_the_bedrock_pool() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "personalized_email_campaign.py"))
    assert bag.import_errors == {}
    dag = bag.dags["personalized_email_campaign"]
    assert [t.task_id for t in dag.topological_sort()] == [
        "create_objects", "select_audience", "retrieve_context", "generate_batch", "summarize"]
    generate = dag.get_task("generate_batch")
    assert generate.pool == "bedrock" and dag.get_task("retrieve_context").pool == "bedrock"
    assert generate.expand_input.value == {"batch": generate.expand_input.value["batch"]}  # mapped over one XComArg
    assert generate.expand_input.value["batch"].operator.task_id == "select_audience"
    assert dag.get_task("summarize").trigger_rule == "all_done"
    assert dag.max_active_runs == 1 and dag.render_template_as_native_obj
    params = dag.params.dump()
    assert params == {"campaign_id": None, "languages": [], "countries": [], "max_customers": None, "mode": "auto",
                      "batch_size": None, "redo_needs_review": False}
    assert type(dag.timetable).__name__ == "NullTimetable"  # started on purpose unless GENAI_CAMPAIGN_SCHEDULE is set
