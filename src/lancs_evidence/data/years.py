"""`lancs-evidence new-year YYYY-YY`: start a new review year without touching code or configuration.

It creates `data/<year>/` with every per-year table as a header row (figures arrive later, usually
through `lancs-evidence import`), registers those tables in `datapackage.json`, adds the year's review
as a source, makes the year current in `years.csv` and puts the year in the book's title. Areas,
measures, units and themes are shared across years, so they carry forward as they are.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from lancs_evidence.data.project import Project, UserError
from lancs_evidence.data.writes import check_writable, write_all

YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def year_label(year: str) -> str:
    a, b = year.split("-")
    return f"{a}/{b}"


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _csv_bytes(header: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def new_year(project: Project, year: str) -> int:
    m = YEAR.match(year)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise UserError(f"{year!r} is not a review year: write it as YYYY-YY with consecutive years, e.g. 2025-26")
    data = project.data
    ycols, years = _read_csv(data / "years.csv")
    if any(r["id"] == year for r in years):
        raise UserError(f"{data / 'years.csv'}: {year} already exists; nothing was changed")
    current = project.current_year()
    descriptor = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    per_year = [r for r in descriptor["resources"] if r["path"].startswith(f"{current}/")]
    if not per_year:
        raise UserError(f"{data / 'datapackage.json'}: no tables for the current year {current} to copy")
    folder = data / year
    if folder.exists():
        raise UserError(f"{folder}: already exists, although {year} is not in years.csv; move it away or add the year "
                        "to years.csv by hand; nothing was changed")
    files: dict[Path, bytes] = {}

    # 1. empty tables with their headers, and their descriptions
    renamed = {r["name"]: r["name"].replace(current, year) for r in per_year}
    new_resources = []
    for res in per_year:
        header = [f["name"] for f in res["schema"]["fields"]]
        files[folder / Path(res["path"]).name] = _csv_bytes(header, [])
        copy = json.loads(json.dumps(res))
        copy["name"] = renamed[res["name"]]
        copy["path"] = f"{year}/{Path(res['path']).name}"
        copy["title"] = res.get("title", "").replace(year_label(current), year_label(year))
        for fk in copy["schema"].get("foreignKeys", []):
            ref = fk["reference"]["resource"]
            fk["reference"]["resource"] = renamed.get(ref, ref)
        new_resources.append(copy)
    last = max(i for i, r in enumerate(descriptor["resources"]) if r["path"].startswith(f"{current}/"))
    descriptor["resources"][last + 1:last + 1] = new_resources

    # 2. the year's review as a source
    scols, sources = _read_csv(data / "sources.csv")
    old_source = next(r for r in years if r["id"] == current)["source"]
    old = next(r for r in sources if r["id"] == old_source)
    source_id = f"eoy-review-{year}"
    if not any(r["id"] == source_id for r in sources):
        sources.append({**{c: "" for c in scols}, "id": source_id, "prefix": "eoy" + year.replace("-", "")[2:],
                        "title": old["title"].replace(year_label(current), year_label(year)),
                        "publisher": old["publisher"], "date": "", "url": "", "file": "",
                        "licence_note": old.get("licence_note", "")})

    # 3. the current year
    for r in years:
        r["current"] = "false"
    years.append({"id": year, "label": year_label(year), "source": source_id, "current": "true"})

    # 4. the book's title
    config = project.root / "_config.yml"
    text = config.read_text(encoding="utf-8")
    new_text, n = re.subn(r"^(title:.*?)\d{4}/\d{2}", lambda mm: mm.group(1) + year_label(year), text, count=1, flags=re.M)
    if n == 0:
        new_text = re.sub(r"^title:\s*\"?(.*?)\"?\s*$", lambda mm: f'title: "{mm.group(1)} {year_label(year)}"', text, count=1, flags=re.M)

    # write everything only after all of it was prepared, and all of it or nothing
    files[data / "datapackage.json"] = (json.dumps(descriptor, indent=2) + "\n").encode("utf-8")
    files[data / "sources.csv"] = _csv_bytes(scols, sources)
    files[data / "years.csv"] = _csv_bytes(ycols, years)
    files[config] = new_text.encode("utf-8")
    check_writable([p for p in files if p.parent != folder] + [folder])
    try:
        folder.mkdir()
    except OSError as exc:
        raise UserError(f"{folder}: cannot be created ({exc.strerror or exc}); nothing was changed") from None
    try:
        write_all(files)
    except UserError:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    print(f"started {year_label(year)}: data/{year}/ holds empty tables ({', '.join(Path(r['path']).name for r in per_year)}),")
    print(f"the year is current and the title says {year_label(year)}. Areas, measures, units and themes carry forward.")
    print("Next: lancs-evidence export-template, send the workbook to district leads, then lancs-evidence import FILE.xlsx")
    return 0
