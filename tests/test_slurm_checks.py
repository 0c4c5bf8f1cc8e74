"""tests/slurm/slurmtest.py's checks on constructed run directories (the SLURM test itself needs a
cluster: tests/slurm/run.sh, run by CI)."""

import base64
import json
import sys
from pathlib import Path

from embtree.io import atomic_path

sys.path.insert(0, str(Path(__file__).resolve().parent / "slurm"))
import slurmtest  # noqa: E402


def test_snapshot_leaves_out_incomplete_outputs_and_outputs_being_written(tmp_path):
    results = tmp_path / "results" / "ds" / "enc"
    results.mkdir(parents=True)
    (results / "done.tsv").write_text("a\n")
    (results / "growing.npz").write_text("partial")
    mark = base64.urlsafe_b64encode(b"results/ds/enc/growing.npz").decode()
    (tmp_path / ".snakemake" / "incomplete").mkdir(parents=True)
    (tmp_path / ".snakemake" / "incomplete" / mark).write_text("")
    ctx = atomic_path(results / "growth.png")  # a job killed, or still running, while it writes
    temp = ctx.__enter__()
    assert temp.exists() and temp.name.startswith(".growth.png.")

    assert slurmtest.main(["snapshot", str(tmp_path), str(tmp_path / "snap.json")]) == 0
    assert list(json.loads((tmp_path / "snap.json").read_text())) == ["results/ds/enc/done.tsv"]

    ctx.__exit__(None, None, None)  # the job finishes: its temporary file becomes the output
    assert not temp.exists() and (results / "growth.png").exists()
    assert slurmtest.main(["check-mtimes", str(tmp_path / "snap.json"), str(tmp_path)]) == 0
    (results / "done.tsv").unlink()
    assert slurmtest.main(["check-mtimes", str(tmp_path / "snap.json"), str(tmp_path)]) != 0
