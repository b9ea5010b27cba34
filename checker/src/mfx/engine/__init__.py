"""The lint engine: parse each file once, run all enabled rules in one batched traversal."""
