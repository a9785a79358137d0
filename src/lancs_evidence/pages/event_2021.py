"""The view for the 2021 workshop page (chapters/case-studies/event-2021.md): its contributions counted
by theme for each question, the themes each question leans towards, and the organisers' key points.

Composed with the page's `ChapterView` (held as `page`); the notebook keeps its parameters, this view
and glue.
"""
from __future__ import annotations

import pandas as pd

from lancs_evidence.analysis.summaries import explode_themes, repeats
from lancs_evidence.pages import fmt
from lancs_evidence.pages.chapter import ChapterView
from lancs_evidence.pages.html import show, table

# The four questions, in the order they were asked, in our own short words.
QUESTIONS = {
    "local_issues": "Local issues linking mental health and inequalities",
    "what_works": "What is working and what should be done",
    "barriers": "Barriers to a step change",
    "opportunities": "The greatest opportunities",
}
SHORT = {"local_issues": "local issues", "what_works": "what works", "barriers": "barriers", "opportunities": "opportunities"}


def theme_frequencies(tagged: pd.DataFrame, contributions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contributions per theme label (rows) for each question (columns, in QUESTIONS order), and the same
    as a percentage of the question's contributions. `tagged` has one row per contribution and theme,
    with the theme's label in "Theme"; a contribution with two themes counts under both."""
    freq = pd.crosstab(tagged["Theme"], tagged["question"]).reindex(columns=list(QUESTIONS), fill_value=0)
    n_q = contributions["question"].value_counts().reindex(list(QUESTIONS), fill_value=0)
    return freq, freq.div(n_q, axis=1) * 100


def top_themes(counts: pd.Series, n: int = 2) -> str:
    """The n most frequent themes in one question's counts (theme label -> contributions), keeping any tied
    with the last one, in words with their counts."""
    col = counts[counts > 0].sort_values(ascending=False, kind="stable")
    col = col[col >= col.iloc[min(n, len(col)) - 1]]
    return fmt.join_words([f"{t.lower()} ({fmt.plural(int(v), 'contribution')})" for t, v in col.items()])


def leaning(diff: pd.Series, share: pd.DataFrame, freq: pd.DataFrame, a: str, b: str, n: int, largest: bool) -> str:
    """The n themes whose share moves most from question b to question a (ties kept), in words with both
    shares. `diff` is share[a] - share[b] (or its negative) by theme; themes raised under neither are left out."""
    d = diff[(freq[a] + freq[b]) > 0]
    d = d.sort_values(ascending=not largest, kind="stable")
    cut = d.iloc[n - 1]
    keep = d[d >= cut] if largest else d[d <= cut]
    return fmt.join_words([f"{t.lower()} ({fmt.number(share.loc[t, a], 0)}% against {fmt.number(share.loc[t, b], 0)}%)"
                           for t in keep.index])


def most_raised_title(counts: pd.Series, what: str) -> str:
    """A chart title naming the theme raised most often (or the themes tied for it)."""
    top = counts[counts == counts.max()].index.tolist()
    if len(top) == 1:
        return f"{top[0]} is the theme raised most often on {what}"
    # a sentence, not a form: the tied themes named first ('Poverty and housing tie as ...'), never '2 themes tie: a; b'
    names = fmt.join_words([str(top[0])] + [str(t)[:1].lower() + str(t)[1:] for t in top[1:]])
    return f"{names} tie as the themes raised most often on {what}"


def millions(row: dict) -> str:
    """A money figure in millions of pounds, with the source's qualifier ("about £6 million")."""
    return f"{fmt.QUALIFIER_WORDS.get(row['qualifier'], '')} £{fmt.number(row['value'] / 1e6)} million".strip()


def theme_words(themes: str, theme_label: pd.Series) -> str:
    """Themes written 'a;b' as their labels, '; '-separated (an unknown id is shown as it is)."""
    return "; ".join(theme_label.get(t.strip(), t.strip()) for t in themes.split(";"))


class WorkshopView:
    """The 2021 workshop's contributions, counted by theme for each of its questions."""

    def __init__(self, page: ChapterView, source: str):
        self.page, self.source = page, source
        data = page.data
        self.src = data.sources.loc[source]
        self.theme_label = data.themes["label"]
        ev = data.event_contributions
        ev = ev[ev["source"] == source]
        # an answer the notes list twice is counted once (the repeat names the row it repeats in `same_as`)
        repeat = repeats(ev)
        self.repeats = ev[repeat]
        self.contributions = ev[~repeat]
        self.tagged = explode_themes(self.contributions)
        self.tagged["Theme"] = self.tagged["theme"].map(self.theme_label)
        self.freq, self.share = theme_frequencies(self.tagged, self.contributions)
        self.n_by_question = self.contributions["question"].value_counts().reindex(list(QUESTIONS), fill_value=0)
        # Barriers against opportunities, and issues against what works: which themes shift most.
        self.diff_bo = (self.share["barriers"] - self.share["opportunities"]).round(1)
        self.diff_iw = (self.share["local_issues"] - self.share["what_works"]).round(1)

    # what prose needs -----------------------------------------------------------------------------
    def key_point_count(self, question: str | None = None) -> int:
        """Key points the organisers wrote up; a link the notes list among them is a link, not a point made."""
        ev = self.contributions if question is None else self.contributions[self.contributions["question"] == question]
        link = ev["part"].eq("link") if "part" in ev else pd.Series(False, index=ev.index)
        return int((ev["is_key_point"] & ~link).sum())

    def part_count(self, *parts: str) -> int:
        """Contributions from the given parts of the notes (`poll`, `chat`, `link`...), each counted once."""
        ev = self.contributions
        return int(ev["part"].isin(parts).sum()) if "part" in ev else 0

    def top_themes(self, question: str, n: int = 2) -> str:
        return top_themes(self.freq[question], n)

    def leaning(self, towards: str, away_from: str, n: int) -> str:
        """The n themes leaning most towards one question rather than the other (its pair: local issues and
        what works, or barriers and opportunities)."""
        diff = {("local_issues", "what_works"): self.diff_iw, ("barriers", "opportunities"): self.diff_bo}
        d = diff[(towards, away_from)] if (towards, away_from) in diff else -diff[(away_from, towards)]
        return leaning(d, self.share, self.freq, towards, away_from, n, True)

    def millions(self, figure_id: str) -> str:
        return millions(self.page.figure(figure_id))

    # sections -------------------------------------------------------------------------------------
    def question_chart(self, q: str) -> None:
        counts = self.freq[q][self.freq[q] > 0]
        self.page.chart_frame(counts.rename("Contributions").reset_index(), label="Theme", value="Contributions",
                              title=most_raised_title(counts, SHORT[q]),
                              x_title="Contributions tagged with the theme", source=f"{self.src['title']}, question on {SHORT[q]}",
                              csv_name=f"event-themes-{q}.csv")

    def key_points(self, q: str) -> None:
        ev = self.contributions
        kp = ev[(ev["question"] == q) & ev["is_key_point"]]
        body = [[r["summary"], theme_words(r["themes"], self.theme_label)] for r in kp.to_dict("records")]
        self.page.record(f"key_points:{q}", list(kp["id"]))
        show(table(body, ["Key point (our summary)", "Themes"], f"Key points recorded on {SHORT[q]}"))

    def chart_leaning(self) -> None:
        """Two charts with positive bars (clearer than one chart with bars either side of zero): themes
        leaning towards the barriers, and towards the opportunities."""
        lean = pd.DataFrame({"Theme": self.diff_bo.index, "diff": self.diff_bo.values})
        to_barriers = lean[lean["diff"] > 0].rename(columns={"diff": "Percentage points more often among barriers"})
        to_opps = lean[lean["diff"] < 0].assign(diff=lambda x: -x["diff"]).rename(
            columns={"diff": "Percentage points more often among opportunities"})
        for frame, where, other in [(to_barriers, "barriers", "opportunities"), (to_opps, "opportunities", "barriers")]:
            col = frame.columns[1]
            top = frame.loc[frame[col].idxmax(), "Theme"]
            self.page.chart_frame(
                frame, label="Theme", value=col,
                title=f"{top} leans furthest towards the {where} rather than the {other}",
                x_title=f"Share of {where} contributions minus share of {other} contributions (percentage points)",
                source=f"{self.src['title']}, questions on barriers and opportunities",
                csv_name=f"event-themes-leaning-to-{where}.csv", unit="percentage_points")
