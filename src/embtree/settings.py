"""The run's configuration read against its schema: what is wrong, and what differs from the papers.

Public names
------------
:func:`config_errors` (schema violations as short ``(key path, message)`` pairs; :data:`RENAMED`
keys say what replaced them);
:func:`changed_settings`, :func:`settings_note`, :data:`SECTIONS`, :data:`NOT_SETTINGS`,
:data:`REPORT_SECTIONS` (settings that differ from the schema's defaults).

The workflow's config schema (``workflow/schemas/config.schema.yaml``) holds every
analysis default, and those defaults are the papers' settings. A run that changes some
of them (the embedded default config is a shortened tour) says so in its report: the
captions list :func:`changed_settings` of the sections each table or figure depends on,
so that a two-head, ten-epoch demo training is never read as the paper's result.
"""

from __future__ import annotations

__all__ = ["config_errors", "RENAMED", "SECTIONS", "NOT_SETTINGS", "REPORT_SECTIONS", "changed_settings",
           "settings_note"]


def config_errors(config, schema):
    """Schema violations of ``config`` as short ``(key path, message)`` pairs, no schema dump.

    ``schema`` is the parsed JSON schema. An unexpected key is reported at its own path (with
    what replaced it, for a :data:`RENAMED` key); a list with repeated items names the repeats.
    """
    # Deferred: jsonschema comes with Snakemake (the workflow extra), not with embtree.
    from jsonschema.validators import validator_for

    out = []
    for err in validator_for(schema)(schema).iter_errors(config):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = sorted(set(err.instance) - allowed)
            for key in extra or [None]:
                hint = RENAMED.get(".".join(str(k) for k in path + [key])) if key else None
                out.append((path + ([key] if key else []), err.message + (f"; {hint}" if hint else "")))
            continue
        if err.validator == "uniqueItems" and isinstance(err.instance, list):
            repeated = [v for i, v in enumerate(err.instance) if v in err.instance[:i]]
            repeated = list(dict.fromkeys(repr(v) for v in repeated))
            listed = repeated[0] if len(repeated) == 1 else ", ".join(repeated[:-1]) + " and " + repeated[-1]
            out.append((path, f"{err.instance!r} repeats {listed}: give each value once"))
            continue
        if err.validator in ("oneOf", "anyOf"):
            wanted = [_describe_schema(alt) for alt in err.validator_value]
            if all(wanted):
                out.append((path, f"{err.instance!r} is not valid here: give {_or(wanted)}"))
                continue
        out.append((path, err.message if len(err.message) < 300 else err.message[:300] + " ..."))
    return sorted(out, key=lambda e: [str(p) for p in e[0]])


#: Keys an older config may still hold, and what replaced them (named in the schema error).
RENAMED = {"heads.seed": "replaced by heads.seeds, a list of seeds with one run each (e.g. seeds: [0])",
           "merge_expand.seed": "replaced by merge_expand.seeds, a list of seeds with one run each (e.g. seeds: [0])",
           "l2h.seed": "replaced by l2h.seeds, a list of seeds with one run each of the trained sources "
                       "(e.g. seeds: [0]; the deterministic ones use the first)"}


def _or(parts):
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _describe_schema(sub):
    """A short reading of a simple JSON-schema alternative (``{type: number, exclusiveMinimum: 0}``
    -> ``a number > 0``; ``{enum: [auto]}`` -> ```auto```), or None when it is not simple."""
    if "const" in sub:
        return f"`{sub['const']}`"
    if "enum" in sub:
        return _or([f"`{v}`" for v in sub["enum"]])
    kind = sub.get("type")
    if kind == "boolean":
        return "true or false"
    if kind == "null":
        return "null"
    if kind == "string":
        return "a string"
    if kind in ("number", "integer"):
        text = "a number" if kind == "number" else "an integer"
        bounds = [f"{op} {sub[key]}" for key, op in (("exclusiveMinimum", ">"), ("minimum", ">="),
                                                    ("exclusiveMaximum", "<"), ("maximum", "<=")) if key in sub]
        return " ".join([text] + [" and ".join(bounds)] if bounds else [text])
    return None


#: Config sections whose keys are analysis settings.
SECTIONS = ("caec", "trees", "l2h", "flat", "merge_expand", "heads", "probe")

#: Keys that choose *what* runs (which metrics, sources, data sets), not how: a run with
#: fewer of them has fewer rows, not different numbers.
NOT_SETTINGS = {
    "caec": {"metrics", "growth_plot_classes"},
    "trees": {"metrics", "points"},
    "l2h": {"sources"},
    "flat": {"reducers", "clusterers", "skip", "reducer_variants", "clusterer_variants", "encoder_reducers", "selection"},
    "heads": {"methods", "datasets", "overrides", "coarse_depths", "ancestor_labels", "hierarchy_variants",
              "device"},
    "probe": {"enabled"},
}


def _main(value, default):
    """A sweep (a list where the default is one value: heads.knn, heads.n_clusters) by its first
    value, the main run's, which every other table reads; the sweep's own tables name each value.
    ``"1x"`` (heads.n_clusters: once the classes) is what its default null means."""
    main = value[0] if isinstance(value, list) and value and not isinstance(default, list) else value
    return None if main == "1x" and default is None else main


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
                   for k in defaults if k not in skip and k in given and _main(given[k], defaults[k]) != defaults[k]]
        if section == "heads":
            for ds, over in sorted((given.get("overrides") or {}).items()):
                diffs = [f"{k} = {v!r} (papers: {defaults.get(k)!r})" for k, v in over.items()
                         if _main(v, defaults.get(k)) != defaults.get(k)]
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
    "heads": ("heads", "probe"),
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
