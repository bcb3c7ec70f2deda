"""What qikg answers: the read API the explorer, the CLI and the endpoint share. One module per
question: ``findings`` (which findings, one finding's page), ``related`` (findings of other
studies sharing concepts), ``compare`` (the study x concept matrix), ``concepts`` (a concept, the
schemes, label search), ``neighbourhood`` (the graph around a node), ``stats`` (counts),
``labels`` (labels for IRIs), ``terms`` (the ontology's terms, for completing a query)."""
