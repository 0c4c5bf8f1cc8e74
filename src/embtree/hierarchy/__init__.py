"""Class hierarchies: the class catalogue, Newick trees, reference trees, WordNet, tree comparison."""
