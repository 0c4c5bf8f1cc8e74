"""Data: data-set loaders, image containers, encoders and the embeddings store."""
