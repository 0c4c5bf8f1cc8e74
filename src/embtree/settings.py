"""Which settings of a run differ from the schema's defaults (the papers' settings).

The workflow's config schema (``workflow/schemas/config.schema.yaml``) holds every
analysis default, and those defaults are the papers' settings. A run that changes some
of them (the embedded default config is a shortened tour) says so in its report: the
captions list :func:`changed_settings` of the sections each table or figure depends on,
so that a two-head, ten-epoch demo training is never read as the paper's result.
"""

from __future__ import annotations

__all__ = ["SECTIONS", "NOT_SETTINGS", "REPORT_SECTIONS", "changed_settings", "settings_note"]

#: Config sections whose keys are analysis settings.
SECTIONS = ("caec", "trees", "l2h", "flat", "merge_expand", "heads")

#: Keys that choose *what* runs (which metrics, sources, data sets), not how: a run with
#: fewer of them has fewer rows, not different numbers.
NOT_SETTINGS = {
    "caec": {"metrics", "growth_plot_classes"},
    "trees": {"metrics", "points"},
    "l2h": {"sources"},
    "flat": {"reducers", "clusterers", "skip"},
    "heads": {"methods", "datasets", "overrides", "coarse_depths", "ancestor_labels", "device"},
}


def changed_settings(config, schema) -> dict[str, list[str]]:
    """Settings of ``config`` that differ from the defaults of ``schema``, per section.

    Parameters
    ----------
    config : dict
        A validated config (defaults filled in), e.g. Snakemake's ``config``.
    schema : dict
        The parsed config schema; ``schema["properties"][section]["properties"][key]["default"]``.

    Returns
    -------
    dict
        ``{section: ["section.key = value (papers: default)", ...]}`` for every section of
        :data:`SECTIONS` (an empty list when nothing differs). ``heads.overrides.<dataset>``
        entries that differ are listed as ``"heads.overrides.<dataset>: key = value (papers:
        default), ..."``.
    """
    props = schema["properties"]
    out = {}
    for section in SECTIONS:
        defaults = {k: v.get("default") for k, v in props[section]["properties"].items()}
        given = config.get(section) or {}
        skip = NOT_SETTINGS.get(section, set())
        changed = [f"{section}.{k} = {given[k]!r} (papers: {defaults[k]!r})"
                   for k in defaults if k not in skip and k in given and given[k] != defaults[k]]
        if section == "heads":
            for ds, over in sorted((given.get("overrides") or {}).items()):
                diffs = [f"{k} = {v!r} (papers: {defaults.get(k)!r})" for k, v in over.items()
                         if v != defaults.get(k)]
                if diffs:
                    changed.append(f"heads.overrides.{ds}: " + ", ".join(diffs))
        out[section] = changed
    return out


#: The settings sections each report table family depends on (its numbers change with them).
REPORT_SECTIONS = {
    "caec": ("caec",),
    "trees": ("caec", "trees"),
    "l2h": ("l2h", "heads"),
    "flat": ("flat",),
    "cross": ("caec", "trees", "l2h", "heads"),
    "merge_expand": ("merge_expand",),
    "heads": ("heads",),
}


def settings_note(changed, family) -> str | None:
    """The note a report table of ``family`` carries when its settings differ from the papers'.

    ``changed`` is :func:`changed_settings`' result; ``None`` when nothing the family depends on
    (:data:`REPORT_SECTIONS`) differs. The same words as the HTML captions, so a table pasted from
    the Markdown / LaTeX files keeps its caution (CSV files carry no notes).
    """
    lines = [line for section in REPORT_SECTIONS[family] for line in changed.get(section, [])]
    if not lines:
        return None
    return ("Shortened run, not the papers' setup: " + "; ".join(lines)
            + ". Read these numbers as a demonstration of the pipeline, not as findings.")
