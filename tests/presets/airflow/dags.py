"""Hand-written DAG sources for the Airflow devstack tests (Airflow 3 API)."""

from __future__ import annotations

from textwrap import dedent


def mapped_branching_dag(dag_id: str, tag: str, flaky_marker: str) -> str:
    """BashOperator tasks, one dynamically mapped task (width from the run's conf), a branch
    (side from the conf) and a task that fails on its first try and passes on its retry."""
    return dedent(f'''\
        import pendulum
        from datetime import timedelta
        from airflow.sdk import DAG, task
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG({dag_id!r}, start_date=pendulum.datetime(2026, 1, 1), schedule=None, catchup=False,
                 tags=[{tag!r}, "mfx-test"]) as dag:
            start = BashOperator(task_id="start", bash_command="echo start")

            @task
            def commands(**context):
                n = int(context["dag_run"].conf.get("n", 2))
                return ["echo item-%d" % i for i in range(n)]

            square = BashOperator.partial(task_id="square").expand(bash_command=commands())

            @task.branch
            def choose(**context):
                return context["dag_run"].conf.get("side", "left")

            left = BashOperator(task_id="left", bash_command="echo left")
            right = BashOperator(task_id="right", bash_command="echo right")
            flaky = BashOperator(task_id="flaky", retries=1, retry_delay=timedelta(seconds=1),
                                 bash_command="test -f {flaky_marker} || (touch {flaky_marker}; exit 1)")
            end = BashOperator(task_id="end", bash_command="echo end", trigger_rule="none_failed_min_one_success")
            start >> square >> choose() >> [left, right] >> end
            start >> flaky >> end
        ''')


def sleeping_dag(dag_id: str, marker: str) -> str:
    """One task that sleeps long enough to be running when the devstack is stopped."""
    return dedent(f'''\
        import pendulum
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator

        with DAG({dag_id!r}, start_date=pendulum.datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
            BashOperator(task_id="sleep", bash_command="exec -a {marker} sleep 600")
        ''')


def broken_dag(dag_id: str, module: str) -> str:
    return dedent(f'''\
        import pendulum
        from airflow.sdk import DAG
        import {module}

        with DAG({dag_id!r}, start_date=pendulum.datetime(2026, 1, 1), schedule=None) as dag:
            pass
        ''')
