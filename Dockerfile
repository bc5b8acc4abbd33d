# The ringtrace API and CLI, for compose.yaml. Neo4j runs in its own container.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY api ./api
COPY cypher ./cypher
RUN pip install --no-cache-dir -e .
USER nobody
EXPOSE 8000
CMD ["ringtrace", "serve", "--host", "0.0.0.0", "--port", "8000"]
