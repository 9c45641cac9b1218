"""The paper (Storm et al., PRL 2024): datasets, its networks, trained nets, statistics, charts."""
