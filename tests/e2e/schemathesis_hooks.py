"""schemathesis hooks of tests/e2e/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

One string format, `entity-tag`, which schemathesis_document.py puts on the If-Match header (next
to its pattern, which still decides what is valid). schemathesis's coverage phase draws header
values from letters and digits only; If-Match's pattern needs a quote or `*`, so that phase has no
valid value of its own and sends a negative one ("0") in cases it calls positive. A format with a
strategy of its own is what it uses instead: the values below are exactly the pattern's,
`^("[1-9][0-9]{0,17}"|\\*)$`. Low revisions come first, so valid tags meet real keys (revision 1,
2, ...) as well as stale ones.
"""
from hypothesis import strategies as st

import schemathesis

schemathesis.openapi.format(
    "entity-tag",
    st.one_of(
        st.just("*"),
        st.integers(min_value=1, max_value=5).map(lambda n: f'"{n}"'),
        st.integers(min_value=1, max_value=10**18 - 1).map(lambda n: f'"{n}"'),
    ),
)
