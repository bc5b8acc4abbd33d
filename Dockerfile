# The ringtrace API and CLI, for compose.yaml. Neo4j runs in its own container.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY api ./api
COPY cypher ./cypher
# No extras: everything the API and the CLI run needs is a core dependency (networkit's PLM, the
# `fast` extra, is optional). Editable, because cypher/ (schema, query library) is read from the
# source tree next to graph/ (graph.settings.PROJECT_ROOT = /app), and a wheel does not carry it.
RUN pip install --no-cache-dir -e .
USER nobody
EXPOSE 8000
CMD ["ringtrace", "serve", "--host", "0.0.0.0", "--port", "8000"]
