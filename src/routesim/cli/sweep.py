"""Commands: routesim sweep."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ExecutorName(StrEnum):
    local = "local"
    dask = "dask"


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""

    @app.command()
    def sweep(
        sweep_file: Annotated[Path, typer.Argument(metavar="SWEEP.yaml", help="Sweep file: base scenario and axes.")],
        out: Annotated[Path, typer.Option("--out", help="Parent folder of the sweep's result folder.")] = Path(
            "results"),
        executor: Annotated[
            ExecutorName, typer.Option("--executor", help="local: processes on this machine; dask: a Dask cluster.")
        ] = ExecutorName.local,
        workers: Annotated[
            int | None,
            typer.Option("--workers", min=1, max=1024, help="Local processes (default: one per CPU)."),
        ] = None,
        address: Annotated[
            str | None, typer.Option("--address", help="Dask scheduler for --executor dask: tcp://HOST:8786.")
        ] = None,
        plan: Annotated[
            bool, typer.Option("--plan", help="Only list the variants the sweep file expands to; run nothing.")
        ] = False,
    ) -> None:
        """Run every variant of a sweep; write sweep.csv, sweep.parquet and sensitivity.csv to OUT/<name>/.

        Variants done before (same content hash) are skipped, so a stopped sweep
        resumes where it was. Exits 1 when a variant failed (its error is in the tables).
        """
        from routesim.errors import RoutesimError
        from routesim.runner.sweep import plan_sweep, run_sweep

        if plan:
            import os

            from routesim.cli.render import render

            planned = plan_sweep(sweep_file)
            rows = [{"variant": v.id, **v.params} for v in planned.variants]
            title = f"{planned.name}: {len(rows)} variant(s) of {os.path.normpath(planned.base)}"
            typer.echo(render(rows, title=title, columns=["variant", *planned.columns]))
            return

        if executor is ExecutorName.dask and not address:
            raise RoutesimError("--executor dask needs --address tcp://HOST:8786 (the Dask scheduler)")
        if executor is ExecutorName.local and address:
            raise RoutesimError("--address is for --executor dask")
        if executor is ExecutorName.dask and workers is not None:
            raise RoutesimError("--workers is for --executor local: a Dask cluster has the workers it was given")
        report = run_sweep(sweep_file, out=out, executor=executor.value, workers=workers, address=address)
        for w in report.warnings:
            typer.echo(f"routesim: warning: {w}", err=True)
        for vid, error in report.failed:
            typer.echo(f"routesim: variant {vid} failed: {error}", err=True)
        ok = report.variants - len(report.failed)
        typer.echo(f"{report.variants} variant(s): {report.ran} run, {report.skipped} done before, "
                   f"{len(report.failed)} failed ({ok} ok) in {report.seconds:.1f} s")
        typer.echo(f"wrote {report.directory / 'sweep.csv'}")
        if report.failed:
            raise typer.Exit(1)
