"""embtree.hierarchy.wordnet: finding, checking and loading WordNet 3.0, resolving synsets, the CLI.

Tests marked ``wordnet`` use an installed WordNet 3.0 when there is one, else the shipped copy
(so they run on any machine).
"""

import zipfile

import numpy as np
import pytest

from conftest import HIERARCHIES, ROOT, dry_run, no_installed_wordnet, wordnet_or_skip
from embtree.hierarchy.wordnet import WordNetNotFoundError, check_wordnet, find_wordnet, is_shipped, load_wordnet, main, unknown_synsets
from embtree.hierarchy import reference, wordnet_files
from embtree.hierarchy.catalogue import CIFAR10_SYNSETS


def test_missing_wordnet_dir_error_says_how_to_install(tmp_path):
    with pytest.raises(WordNetNotFoundError, match="apt-get install wordnet-base"):
        find_wordnet(tmp_path)


# --- the WordNet shipped with embtree: found when no other is ----------------------------------


@pytest.mark.wordnet
def test_shipped_wordnet_is_used_when_no_other_is_found(monkeypatch):
    no_installed_wordnet(monkeypatch)
    loc = check_wordnet()  # found and every file nltk loads opened
    assert is_shipped(loc) and str(find_wordnet()) == str(loc)
    wn = load_wordnet()
    assert wn.get_version() == "3.0"
    assert wn.synset("dog.n.01").definition().startswith("a member of the genus Canis")
    names = list(CIFAR10_SYNSETS)
    nwk = reference.reference_tree(list(CIFAR10_SYNSETS.values()), names=names, wn=wn)
    assert nwk == (HIERARCHIES / "cifar10.nwk").read_text().strip()
    # an explicit wordnet.dir still wins, and is still an error when wrong
    with pytest.raises(WordNetNotFoundError, match="holds no WordNet"):
        find_wordnet(ROOT / "src")


def test_missing_or_corrupt_shipped_wordnet_is_an_error_naming_the_file(monkeypatch, tmp_path):
    no_installed_wordnet(monkeypatch)
    real = wordnet_files.SHIPPED_WORDNET
    gone = tmp_path / "gone.zip"
    monkeypatch.setattr(wordnet_files, "SHIPPED_WORDNET", gone)
    with pytest.raises(WordNetNotFoundError, match=f"shipped with embtree is missing: {gone}"):
        check_wordnet()
    not_zip = tmp_path / "lfs.zip"
    not_zip.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\n")
    monkeypatch.setattr(wordnet_files, "SHIPPED_WORDNET", not_zip)
    with pytest.raises(WordNetNotFoundError, match="cannot be read.*Git LFS pointer"):
        find_wordnet()
    # a damaged member (flipped bytes inside data.noun's compressed data): the CRC check at DAG build
    raw = bytearray(real.read_bytes())
    with zipfile.ZipFile(real) as zf:
        info = zf.getinfo("wordnet/data.noun")
    pos = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    raw[pos : pos + 8] = bytes(8)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    monkeypatch.setattr(wordnet_files, "SHIPPED_WORDNET", damaged)
    with pytest.raises(WordNetNotFoundError, match=f"shipped with embtree at {damaged}.* cannot be read"):
        check_wordnet()


@pytest.mark.wordnet
def test_unknown_synsets_lists_malformed_and_missing_ids():
    wn = wordnet_or_skip()
    assert unknown_synsets(["dog.n.01", "n02084071", "n99999999", "no_such_thing", "dog.n.99"], wn) == [
        "n99999999", "no_such_thing", "dog.n.99"]  # fmt: skip


@pytest.mark.wordnet
def test_check_command_reports_where_wordnet_is(capsys):
    wordnet_or_skip()
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("WordNet 3.0 at ")
    assert main(["check", "--dir", str(ROOT / "src")]) == 1
    assert "holds no WordNet" in capsys.readouterr().err


# --- the same through the workflow: WordNet problems stop `snakemake -n`, never a job ----------


def _dry_run(tmp_path, dataset, top_extra=None):
    """`snakemake -n` of a one-dataset config: 12 samples of 3 CIFAR-10 classes, `reference: wordnet`."""
    path = tmp_path / "f.npz"
    rng = np.random.default_rng(0)
    np.savez(path, features=rng.normal(size=(12, 3)), labels=np.arange(12) % 3,
             class_names=np.array(["cat", "dog", "truck"]))  # fmt: skip
    spec = {"type": "features", "encoder_name": "given", "path": str(path), "reference": "wordnet", **dataset}
    return dry_run(tmp_path, {"datasets": {"f": spec}, **(top_extra or {})})


def test_dry_run_stops_when_wordnet_dir_holds_no_wordnet(tmp_path):
    empty = tmp_path / "no_wordnet"
    empty.mkdir()
    proc, out = _dry_run(tmp_path, {}, {"wordnet": {"dir": str(empty)}})
    assert proc.returncode != 0
    assert "config error at 'wordnet.dir'" in out and str(empty) in out and "apt-get install wordnet-base" in out
    assert "reference: wordnet` of datasets ['f']" in out
    assert "Traceback" not in out and not (tmp_path / "results").exists()


@pytest.mark.slow
def test_dry_run_stops_on_a_synsets_tsv_naming_a_synset_wordnet_lacks(tmp_path):
    tsv = tmp_path / "my_synsets.tsv"
    tsv.write_text("class_name\tsynset\ncat\tcat.n.01\ndog\tdog.n.99\ntruck\tn99999999\n")
    proc, out = _dry_run(tmp_path, {"synsets": str(tsv)})
    assert proc.returncode != 0
    assert "config error at 'datasets.f.synsets'" in out and str(tsv) in out
    assert "'dog' -> 'dog.n.99'" in out and "'truck' -> 'n99999999'" in out and "'cat'" not in out
    assert "Traceback" not in out and not (tmp_path / "results").exists()
    tsv.write_text("class_name\tsynset\ncat\tcat.n.01\ndog\tdog.n.01\ntruck\tn04490091\n")
    proc, out = _dry_run(tmp_path, {"synsets": str(tsv)})
    assert proc.returncode == 0, out[-3000:]
    assert "wordnet_reference" in out
