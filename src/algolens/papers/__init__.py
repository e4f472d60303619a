"""The papers' published figures as data, one module per paper, with no imports from the layers
that use them: the reproductions judge against them and the reports show them beside ours."""
