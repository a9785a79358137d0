"""`lancs-evidence`: the one entry point. Each subcommand is a thin shell over a module in this package.

A user's mistake (bad data, a wrong option) is reported as plain lines and a non-zero exit, never a
traceback. Exit codes: 0 success, 1 the input is invalid or a step failed, 2 wrong usage.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lancs_evidence.data.project import Project, UserError


def _project(args) -> Project:
    return Project.here(Path(args.root) if getattr(args, "root", None) else None)


def cmd_validate(args) -> int:
    from lancs_evidence.data.validate import stop_on_problems

    project = _project(args)
    data_dir = Path(args.data_dir) if args.data_dir else project.data
    if stop_on_problems(data_dir, f"found in {data_dir}; nothing was changed"):
        return 1
    print(f"{data_dir}: all tables valid")
    return 0


def _check_executor(args) -> None:
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler is for a Dask cluster: add --executor dask")


def cmd_run(args) -> int:
    from lancs_evidence.build.runner import run_pages

    _check_executor(args)
    project = _project(args)
    from lancs_evidence.build.book import LockHeld, build_lock

    try:
        with build_lock(project, wait=args.wait, what="run"):
            report = run_pages(project, areas=args.area or None, jobs=args.jobs, force=args.force,
                               progress=not args.quiet, timeout=args.timeout,
                               executor=args.executor, scheduler=args.scheduler)
    except LockHeld as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    print(report.summary())
    return 130 if report.interrupted else 0 if report.ok else 1


def cmd_build(args) -> int:
    from lancs_evidence.build.book import build

    _check_executor(args)
    project = _project(args)
    return build(project, jobs=args.jobs, force=args.force, progress=not args.quiet, timeout=args.timeout, wait=args.wait,
                 executor=args.executor, scheduler=args.scheduler, sphinx_jobs_option=args.sphinx_jobs)


def cmd_audit(args) -> int:
    from lancs_evidence.analysis.audit import run_audit_command

    project = _project(args)
    return run_audit_command(project, out=Path(args.output) if args.output else None, strict=args.strict,
                             scan=Path(args.scan) if args.scan else None)


def cmd_pdf(args) -> int:
    from lancs_evidence.build.pdf import build_pdf

    project = _project(args)
    return build_pdf(project, Path(args.output) if args.output else None)


def cmd_reference_import(args) -> int:
    from lancs_evidence.data.reference import import_reference

    project = _project(args)
    for path in import_reference(project, Path(args.shared)):
        print(f"wrote {path.relative_to(project.root)}")
    return 0


def cmd_reference_accept(args) -> int:
    from lancs_evidence.data.reference import accept_reference

    project = _project(args)
    for path, changed in accept_reference(project, args.names):
        print(f"{'recorded the new hash in' if changed else 'unchanged:'} {path.relative_to(project.root)}")
    print("now run `lancs-evidence validate` to check the tables themselves")
    return 0


def cmd_new_year(args) -> int:
    from lancs_evidence.data.years import new_year

    project = _project(args)
    return new_year(project, args.year)


def cmd_export_template(args) -> int:
    from lancs_evidence.data.excel import export_template

    project = _project(args)
    path = export_template(project, Path(args.output) if args.output else None, area=args.area, year=args.year)
    print(f"wrote {path}")
    return 0


def cmd_import(args) -> int:
    from lancs_evidence.data.excel import import_workbook

    project = _project(args)
    return import_workbook(project, Path(args.workbook), year=args.year, dry_run=args.dry_run)


def cmd_bench(args) -> int:
    from lancs_evidence.build.bench import run_bench

    project = _project(args)
    if args.executors:
        from lancs_evidence.build.bench_scale import run_scale_bench

        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        if args.quick:
            sizes = [min(s, 20) for s in sizes[:1]]
        return run_scale_bench(project, sizes, jobs=args.jobs, sphinx_pages=args.sphinx_pages)
    return run_bench(project, runs=args.runs, scale_areas=args.scale_areas, quick=args.quick)


def _sphinx_jobs(text: str):
    from lancs_evidence.build.sphinxjobs import parse_sphinx_jobs

    try:
        return parse_sphinx_jobs(text, "--sphinx-jobs")
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--sphinx-jobs ")) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lancs-evidence",
        description="Build, check and update the Lancashire evidence book.",
    )
    p.add_argument("--root", help="project folder (default: the one containing the current folder)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("validate", help="check every data table against data/datapackage.json")
    s.add_argument("data_dir", nargs="?", help="data folder (default: data/)")
    s.set_defaults(func=cmd_validate)

    def add_run_opts(s):
        s.add_argument("-j", "--jobs", type=int, default=None, help="notebooks run at once (default: number of cores)")
        s.add_argument("--force", action="store_true", help="re-run every notebook even if its inputs are unchanged")
        s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
        s.add_argument("--timeout", type=float, default=None,
                       help="seconds one page may run before it is stopped (default: lancs_evidence.page_timeout "
                            "in _config.yml, else 300)")
        s.add_argument("--wait", action="store_true",
                       help="if another build holds the project's lock, wait for it instead of stopping (exit code 3)")
        s.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="where notebooks run: a local process pool (default) or a Dask cluster")
        s.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --executor dask; "
                            "default: start a LocalCluster on this machine)")

    s = sub.add_parser("run", help="execute the page notebooks with papermill (only those whose inputs changed)")
    s.add_argument("--area", action="append", help="run only this partnership's page (repeatable)")
    add_run_opts(s)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("build", help="validate, run the notebooks, then build the site into _build/html")
    add_run_opts(s)
    from lancs_evidence.build.sphinxjobs import SPHINX_JOBS_AUTO_FROM

    s.add_argument("--sphinx-jobs", type=_sphinx_jobs, default=None, metavar="N|auto",
                   help="Sphinx processes for the book build (the same pages either way). Default: "
                        "lancs_evidence.sphinx_jobs in _config.yml, else auto: serial for a book of fewer than "
                        f"{SPHINX_JOBS_AUTO_FROM} pages, one process per core from there up (on a 2-core machine "
                        "two processes were slower at 36 and 101 pages and faster at 301; see README.md)")
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("audit", help="recompute derived figures the sources state and report any that do not add up")
    s.add_argument("-o", "--output", help="CSV file for the findings (default: _build/audit.csv)")
    s.add_argument("--strict", action="store_true", help="exit non-zero when any figure is inconsistent or contradicted")
    s.add_argument("--scan", metavar="DIR", help="also scan the source texts in DIR (*.txt) for repeated passages, abbreviations "
                   "spelled out two ways and figures outside their heading's area, and list any not yet recorded")
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("pdf", help="build the whole book as one PDF (single HTML page printed by Chromium)")
    s.add_argument("-o", "--output", help="PDF path (default: _build/pdf/lancashire-evidence-book.pdf)")
    s.set_defaults(func=cmd_pdf)

    s = sub.add_parser("reference-import", help="copy official context data into data/reference with metadata")
    s.add_argument("shared", nargs="?", default="../shared/reference-data", help="folder of the shared reference data")
    s.set_defaults(func=cmd_reference_import)

    s = sub.add_parser("reference-accept", help="re-record the hash of reference tables you updated in data/reference")
    s.add_argument("names", nargs="+", metavar="NAME", help="a table's name, e.g. population (its record is NAME.meta.json)")
    s.set_defaults(func=cmd_reference_accept)

    s = sub.add_parser("new-year", help="start a new review year, e.g. 2025-26")
    s.add_argument("year", help="year id, YYYY-YY")
    s.set_defaults(func=cmd_new_year)

    s = sub.add_parser("export-template", help="write an Excel workbook for district leads to fill in")
    s.add_argument("--area", help="one partnership only")
    s.add_argument("--year", help="year to collect (default: the current year)")
    s.add_argument("-o", "--output", help="xlsx path")
    s.set_defaults(func=cmd_export_template)

    s = sub.add_parser("import", help="read a filled-in workbook into the year's ledger")
    s.add_argument("workbook")
    s.add_argument("--year", help="year to import into (default: the current year)")
    s.add_argument("--dry-run", action="store_true", help="check the workbook, change nothing")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("bench", help="measure build times and memory, and print them")
    s.add_argument("--runs", type=int, default=3, help="runs per case (the median is printed)")
    s.add_argument("--scale-areas", type=int, default=300, help="synthetic areas for the scale case")
    s.add_argument("--quick", action="store_true", help="one run per case and a smaller scale case")
    s.add_argument("--executors", action="store_true",
                   help="instead: the scale case with the local pool and a Dask LocalCluster side by side, and Sphinx at size")
    s.add_argument("--sizes", default="300,1000", help="with --executors: synthetic areas per size, comma-separated")
    s.add_argument("--sphinx-pages", type=int, default=1000, help="with --executors: pages for the book-build measurement")
    s.add_argument("-j", "--jobs", type=int, default=None, help="with --executors: workers per executor (default: cores)")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    from lancs_evidence.build import interrupts

    args = parser().parse_args(argv)
    try:
        with interrupts.handled():  # Ctrl-C or SIGTERM: a clean stop, and never a hang (see build.interrupts)
            return args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:
        print(f"error: {exc.filename or 'a file'}: permission denied ({exc.strerror}); check that you may write to the "
              "project's data/ and _build/ folders", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the published site was left as it was", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
