"""The words of a look: what the page, the summary sentence, the tables and the headline say.

`look_words` writes a look's warnings and summary; `formatting` writes numbers; `wording`
words a comparison and a verdict; `summary_sentence` is the sentence a marketer acts on;
`plan_words` and `caps` say the plan and a percentile cap; `headline` picks what a surface
leads with; `tables` are the terminal and page tables; `glossary` explains the page's terms.
They read the types; the types and the page never import the words (a contract in
pyproject.toml checks it), bar `formatting`'s dates.
"""
