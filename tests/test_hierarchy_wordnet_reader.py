"""embtree.hierarchy.wordnet_reader: nltk's WordNet reader on a directory or a zip entry, cached."""

import pytest

from embtree.hierarchy import wordnet_files, wordnet_reader


@pytest.mark.wordnet
def test_cached_reader_opens_the_shipped_zip_once_per_location():
    key = (str(wordnet_files.SHIPPED_WORDNET), wordnet_files.SHIPPED_ENTRY)
    wn = wordnet_reader.cached_reader(*key)
    assert wn.get_version() == "3.0" and wn.synset("dog.n.01").name() == "dog.n.01"
    assert wordnet_reader.cached_reader(*key) is wn
    assert wordnet_reader.location_key(wordnet_reader.pointer(*key)) == key
