"""Official context data: copy the parts the book uses from ../shared/reference-data into data/reference.

Each copied table gets a metadata file beside it (`<name>.meta.json`) giving publisher, title, licence,
period, origin and the sha256 of the copy, so a reader can trace every context figure and a test can
check that nobody edited the data without updating its record.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from lancs_evidence.data.project import Project, UserError

META_FIELDS = ("title", "publisher", "licence", "period", "origin", "sha256", "description")

# What we take from each shared file, and what we say about it. Column lists are the parts the book uses.
TABLES: dict[str, dict] = {
    "population": {
        "file": "population_lancashire_mid2020_census2021.csv",
        "columns": {
            "ltla21_code": "ons_code",
            "ltla21_name": "name",
            "mye_mid2020_all_ages": "population_mid2020",
            "age_0_17_derived": "age_0_17_mid2020",
            "age_18_64_derived": "age_18_64_mid2020",
            "age_65_plus_derived": "age_65_plus_mid2020",
            "census2021_usual_residents": "census2021_usual_residents",
        },
        "rows": "districts",
        "meta": {
            "title": "Population of the 12 Lancashire districts: mid-2020 estimates and Census 2021 usual residents",
            "publisher": "Office for National Statistics (ONS)",
            "licence": "Open Government Licence v3.0",
            "period": "Mid-year estimate 30 June 2020; Census day 21 March 2021",
            "origin": "ONS MYE2 persons (ukpopestimatesmid2020on2021geography.xls) and Census 2021 TS009, as redistributed by humaniverse/demographr (commits c6210a3 and 2967c02); taken from ../shared/reference-data/population_lancashire_mid2020_census2021.csv",
            "description": "Age bands are sums of single years of age. The mid-2020 estimates are the pre-Census roll-forward; ONS later revised them, and Lancaster's is about 5,000 above its Census count.",
        },
    },
    "imd2025": {
        "file": "imd2025_lad_lancashire.csv",
        "columns": {
            "ltla24_code": "ons_code",
            "ltla24_name": "name",
            "n_lads_ranked_derived": "districts_ranked",
            "imd_average_score": "imd_average_score",
            "imd_rank_of_average_score": "imd_rank_of_average_score",
            "imd_rank_of_average_rank": "imd_rank_of_average_rank",
            "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally": "share_lsoas_most_deprived_decile",
            "imd_rank_of_proportion_of_lso_as_in_most_deprived_10_percent_nationally": "rank_of_share_most_deprived_decile",
            "imd25_extent": "extent",
            "health_deprivation_and_disability_rank_of_average_score": "health_domain_rank_of_average_score",
        },
        "rows": "districts",
        "meta": {
            "title": "English Indices of Deprivation 2025: local authority district summaries (lower-tier), Lancashire districts",
            "publisher": "Ministry of Housing, Communities and Local Government (MHCLG)",
            "licence": "Open Government Licence v3.0",
            "period": "Indices of Deprivation 2025 (published 2025); April 2024 district boundaries",
            "origin": "IoD2025 File 10, as redistributed by humaniverse/IMD (commit 2f6c905, data/imd2025_england_ltla24.rda); taken from ../shared/reference-data/imd2025_lad_lancashire.csv",
            "description": "Rank 1 is the most deprived of the districts ranked. The share of small areas (LSOAs) in England's most deprived tenth is a fraction from 0 to 1.",
        },
    },
    "imd2019": {
        "file": "imd2019_lad_lancashire.csv",
        "columns": {
            "ltla19_code": "ons_code",
            "ltla19_name": "name",
            "Score": "imd_average_score",
            "rank_of_average_score_derived": "imd_rank_of_average_score",
            "n_lads_ranked_derived": "districts_ranked",
            "Proportion": "share_lsoas_most_deprived_decile",
            "Extent": "extent",
        },
        "rows": "districts",
        "meta": {
            "title": "English Indices of Deprivation 2019: local authority district summaries, Lancashire districts",
            "publisher": "Ministry of Housing, Communities and Local Government (MHCLG)",
            "licence": "Open Government Licence v3.0",
            "period": "Indices of Deprivation 2019; 2019 district boundaries (317 districts)",
            "origin": "IoD2019 File 10, as condensed by humaniverse/IMD (commit 5dd29ab, data/imd2019_england_ltla19.rda); taken from ../shared/reference-data/imd2019_lad_lancashire.csv",
            "description": "The rank of average score was derived by ranking all 317 districts' scores (rank 1 most deprived); it was not read from the published file. 2019 ranks are out of 317 districts and 2025 ranks out of 296, so a change in rank is indicative only.",
        },
    },
    "fingertips": {
        "file": "fingertips_lancashire_districts.csv",
        "columns": {
            "area_code": "ons_code",
            "area_name": "name",
            "indicator_key": "indicator",
            "fingertips_indicator_id": "fingertips_id",
            "sex": "sex",
            "label": "label",
            "unit": "unit",
            "period": "period",
            "value": "value",
            "ci95_lower": "ci95_lower",
            "ci95_upper": "ci95_upper",
            "compared_to_england": "compared_to_england",
            "england_value": "england_value",
            "north_west_value": "north_west_value",
            "period_is_latest_derived": "england_period_matches",
        },
        "rows": "all",
        "meta": {
            "title": "Public health profile indicators for the Lancashire districts, with England comparators",
            "publisher": "Office for Health Improvement and Disparities (OHID), Fingertips",
            "licence": "Open Government Licence v3.0 (the data); the redistributing repository has no licence file",
            "period": "Latest available per indicator: 2022-24 to 2024 (see the period column)",
            "origin": "Fingertips API via the ETL in tompickup23/burnleycouncil (commit fd923fa, run 2026-03-09); taken from ../shared/reference-data/fingertips_lancashire_districts.csv",
            "description": "Values and 95% confidence intervals rounded to one decimal place by the ETL. compared_to_england is Fingertips' own significance call. Where england_period_matches is False the England value is for a later period than the district's.",
        },
    },
    "boundaries": {
        "file": "lancashire_lad_may2024_buc.geojson",
        "columns": None,
        "rows": "all",
        "meta": {
            "title": "Local Authority Districts (May 2024) Boundaries UK BUC, Lancashire districts",
            "publisher": "Office for National Statistics, Open Geography Portal",
            "licence": "Open Government Licence v3.0; contains OS data (c) Crown copyright and database right",
            "period": "Boundaries as at May 2024",
            "origin": "ONS LAD May 2024 BUC via humaniverse/geographr (commit 54554c6, data/boundaries_ltla24.rda); taken from ../shared/reference-data/lancashire_lad_may2024_buc.geojson",
            "description": "Ultra-generalised (500 m) boundaries clipped to the coastline, in longitude and latitude (WGS84). Suitable for an overview map only.",
        },
    },
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def target_name(name: str) -> str:
    return f"{name}.geojson" if TABLES[name]["columns"] is None else f"{name}.csv"


def _prepare(name: str, spec: dict, src: Path) -> tuple[bytes, list[str]]:
    """The bytes to write for one reference table, or the problems with its input file."""
    if spec["columns"] is None:
        raw = src.read_bytes()
        try:
            geo = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            return b"", [f"{src}: not valid GeoJSON ({exc})"]
        if not isinstance(geo, dict) or not isinstance(geo.get("features"), list) or not geo["features"]:
            return b"", [f"{src}: a GeoJSON FeatureCollection with at least one feature is required"]
        return raw, []
    try:
        df = pd.read_csv(src, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        return b"", [f"{src}: cannot be read as CSV ({exc})"]
    missing = [c for c in spec["columns"] if c not in df.columns]
    if missing:
        return b"", [f"{src}:1: {c}: column not found (the book needs it as {spec['columns'][c]!r})" for c in missing]
    df = df[list(spec["columns"])].rename(columns=spec["columns"])
    if spec["rows"] == "districts":
        df = df[df["ons_code"].str.match(r"^E0[0-9]{7}$")]
    if df.empty:
        return b"", [f"{src}: no rows for Lancashire districts (ONS codes E0.......)"]
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8"), []


def import_reference(project: Project, shared: Path) -> list[Path]:
    """Copy the used columns of each shared reference file into data/reference, with metadata.

    All or nothing: every input is read and checked first, and only when all of them are usable are the
    tables and their records written (through temporary files renamed into place), so a missing column in
    one file leaves data/reference exactly as it was."""
    from lancs_evidence.data.writes import write_all

    if not shared.is_dir():
        raise UserError(f"{shared}: reference-data folder not found")
    out_dir = project.data / "reference"
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: cannot be written: it is not a folder; nothing was changed")
    files: dict[Path, bytes] = {}
    problems: list[str] = []
    for name, spec in TABLES.items():
        src = shared / spec["file"]
        if not src.is_file():
            problems.append(f"{src}: missing reference file")
            continue
        content, errs = _prepare(name, spec, src)
        if errs:
            problems += errs
            continue
        dest = out_dir / target_name(name)
        meta = dict(spec["meta"])
        meta["sha256"] = hashlib.sha256(content).hexdigest()
        meta["file"] = dest.name
        files[dest] = content
        files[out_dir / f"{name}.meta.json"] = (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if problems:
        raise UserError("\n".join(problems) + f"\n{len(problems)} problem(s) in {shared}; data/reference was not changed")
    if not out_dir.exists():
        try:
            out_dir.mkdir(parents=True)
        except OSError as exc:
            raise UserError(f"{out_dir}: cannot be created ({exc.strerror or exc}); nothing was changed") from None
    write_all(files)
    return list(files)


def accept_reference(project: Project, names: list[str]) -> list[tuple[Path, bool]]:
    """Re-record the sha256 of reference tables an author has updated in data/reference by hand.

    For each name (`population`, or `population.meta.json`) the record `<name>.meta.json` gets the hash of
    the file it names; every other field is kept as the author wrote it. This says only "this content is
    the one we mean": `validate` still checks the table itself. All or nothing: a missing or unreadable
    record or table stops the command before anything is written. Returns each record and whether its
    hash changed."""
    from lancs_evidence.data.writes import write_all

    ref = project.data / "reference"
    if not names:
        raise UserError("name at least one reference table to accept, e.g. `lancs-evidence reference-accept population`")
    files: dict[Path, bytes] = {}
    changed: list[tuple[Path, bool]] = []
    problems: list[str] = []
    for name in names:
        meta_path = ref / f"{name.removesuffix('.json').removesuffix('.meta')}.meta.json"
        if meta_path.parent != ref or not meta_path.is_file():
            known = ", ".join(sorted(p.name.removesuffix(".meta.json") for p in ref.glob("*.meta.json"))) or "none"
            problems.append(f"{meta_path}: no such record (known tables: {known})")
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{meta_path}: not valid JSON ({exc})")
            continue
        fname = str(meta.get("file", "") or "").strip() if isinstance(meta, dict) else ""
        if not fname or Path(fname).name != fname or not (ref / fname).is_file():
            problems.append(f"{meta_path}: 'file' must name its table in {ref} (it is {fname!r})")
            continue
        digest = sha256(ref / fname)
        changed.append((meta_path, digest != meta.get("sha256")))
        meta["sha256"] = digest
        files[meta_path] = (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if problems:
        raise UserError("\n".join(problems) + "\nno record was changed")
    write_all(files)
    return changed


def check_metadata(project: Project) -> list[str]:
    """Problems with the reference metadata: missing fields, or a hash that does not match its file."""
    problems = []
    ref = project.data / "reference"
    for meta_path in sorted(ref.glob("*.meta.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        for field in META_FIELDS + ("file",):
            if not str(meta.get(field, "")).strip():
                problems.append(f"{meta_path}: '{field}' is empty or missing")
        data_path = ref / str(meta.get("file", ""))
        if not data_path.is_file():
            problems.append(f"{meta_path}: its data file {data_path.name!r} is missing")
        elif sha256(data_path) != meta.get("sha256"):
            problems.append(f"{meta_path}: sha256 does not match {data_path.name}; re-run `lancs-evidence reference-import`, "
                            f"or `lancs-evidence reference-accept {meta_path.name.removesuffix('.meta.json')}` if you updated it on purpose")
    data_files = {p.name for p in ref.iterdir() if p.suffix in (".csv", ".geojson")} if ref.exists() else set()
    described = {json.loads(m.read_text(encoding="utf-8")).get("file") for m in ref.glob("*.meta.json")}
    for orphan in sorted(data_files - described):
        problems.append(f"{ref / orphan}: no metadata file beside it")
    return problems
