"""Class hierarchies: the class catalogue, Newick trees, reference trees, WordNet, tree comparison,
where classes sit in a tree (``class_tree``)."""
