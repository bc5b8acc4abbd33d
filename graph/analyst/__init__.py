"""The analyst surface: the Cypher query library, the Bloom perspective, ring dossiers.

`queries` reads and runs `cypher/queries/*.cypher`; `bloom` generates `cypher/bloom/ringtrace.json`
from the graph model; `dossier` renders a self-contained HTML page about one ring.
"""
