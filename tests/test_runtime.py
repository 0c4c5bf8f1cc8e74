"""embtree.runtime."""


def test_release_incomplete_markers_mirrors_snakemake_layout(tmp_path):
    import base64

    from embtree.runtime import release_incomplete_markers

    root = tmp_path / ".snakemake" / "incomplete"
    long = "results/" + "x" * 400 + "/embeddings.npz"
    paths = ["results/d/e/embeddings.npz", long]
    for p in paths:
        b64 = base64.urlsafe_b64encode(p.encode()).decode()
        parts = [b64[i : i + 254] for i in range(0, len(b64), 254)]
        f = root.joinpath(*["@" + x for x in parts[:-1]], parts[-1])
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("{}")
    assert release_incomplete_markers(paths + ["results/never/marked.npz"], workdir=tmp_path) == 2
    assert [p for p in root.rglob("*")] == []
