"""The findings page (results/report/findings.md + .html), one page per paper
(results/report/papers/<paper>.md + .html: its tables and figures this run produced) and the configuration the report was
built from, with package versions (results/report/run_config.yaml, from this job's own config)."""
from embtree.runtime import setup_logging, snakemake_log

log = setup_logging(snakemake_log(snakemake))

import html  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
from importlib import metadata  # noqa: E402

import yaml  # noqa: E402

from embtree import io  # noqa: E402
from embtree import report as R  # noqa: E402
from embtree.hierarchy.compare import clade_scores  # noqa: E402
from embtree.report import findings as F  # noqa: E402
from embtree.report import papers as P  # noqa: E402

p = snakemake.params
data, missing = R.load_families(p.specs, partial=p.partial)
clades, names = {}, {}
for ds, path in p.references.items():
    if os.path.exists(path):
        text = open(path).read().strip()
        clades[ds] = clade_scores(text, text)["n_clades_reference"]
        if re.search(r"\.n\.\d\d", text):  # synset names at the inner nodes: a WordNet tree
            names[ds] = "WordNet"
facts = F.run_facts(snakemake.config, p.changed_settings, reference_clades=clades, reference_names=names,
                    partial=p.partial, runs=p.runs)
findings = F.build_findings(data, missing, facts)
md_path, html_path = snakemake.output.findings
io.write_text(md_path, F.findings_markdown(findings))
io.write_text(html_path, F.findings_html(findings))
log.info("wrote %s, %s: %d runs, %d cautions", md_path, html_path, len(findings.runs), len(findings.cautions))

produced = [P.report_stem(path) for path in p.produced]
for path in snakemake.output.papers:
    paper = P.PAPERS[os.path.basename(path).rsplit(".", 1)[0]]
    page = P.paper_html if path.endswith(".html") else P.paper_markdown
    io.write_text(path, page(paper, produced, p.datasets, snakemake.config))
log.info("wrote %d paper pages", len(snakemake.output.papers) // 2)


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


packages = ["embtree", "snakemake", "torch", "torchvision", "timm", "numpy", "scipy", "scikit-learn", "pandas"]
record = {
    "about": "The configuration this report was built from (defaults filled in) and the package versions of the "
             "report job; written by the report itself (embtree rule report_findings).",
    "versions": {"python": platform.python_version(), **{pkg: _version(pkg) for pkg in packages}},
    "config": json.loads(json.dumps(dict(snakemake.config), default=str)),
}
text = yaml.safe_dump(record, sort_keys=False, allow_unicode=True)
yaml_path, html_path = snakemake.output.run_config
io.write_text(yaml_path, text)
io.write_text(html_path, '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Run configuration</title></head>'
              '<body style="font-family:system-ui,sans-serif;font-size:13px">\n<p><b>Run configuration</b> (also '
              f"{html.escape(os.path.basename(yaml_path))})</p>\n<pre>{html.escape(text)}</pre>\n</body></html>\n")
log.info("wrote %s, %s", yaml_path, html_path)
