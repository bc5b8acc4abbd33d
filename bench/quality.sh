#!/usr/bin/env bash
# Quality of detection, coordination and attribution through the real pipeline (load -> detect ->
# eval) on generated populations of several sizes and seeds, and on the labelled public datasets.
# Uses a Neo4j of its own (port 7692, data in .neo4j-quality/) and wipes it between populations.
#
#   bash bench/quality.sh                       # 20k seeds 1 2, 100k seed 3, paysim, fraud_ecommerce
#   POPULATIONS="20000:4" DATASETS="" bash bench/quality.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RINGTRACE=${RINGTRACE:-ringtrace}
export NEO4J_URI=bolt://127.0.0.1:7692 RINGTRACE_NEO4J_BOLT_PORT=7692 RINGTRACE_NEO4J_HTTP_PORT=7479
export RINGTRACE_NEO4J_HOME="$PWD/.neo4j-quality"
POPULATIONS=${POPULATIONS-"20000:1 20000:2 100000:3"}
DATASETS=${DATASETS-"paysim:paysim_neo4j_apac fraud_ecommerce:fraud_ecommerce_subset"}
SHARED=${SHARED:-../shared/datasets}
WORK=${WORK:-/tmp/ringtrace-quality}
mkdir -p "$WORK"

fresh() {
  $RINGTRACE neo4j stop >/dev/null || true
  rm -rf "$RINGTRACE_NEO4J_HOME/data"
  $RINGTRACE neo4j start >/dev/null
  $RINGTRACE schema apply >/dev/null
}

evaluate() {  # name bundle
  fresh
  $RINGTRACE load "$2" >/dev/null || [ $? -eq 3 ]
  $RINGTRACE detect --seed 1 | tail -n 4
  echo "=== $1"
  $RINGTRACE eval --truth "$2/truth.csv"
}

for spec in $POPULATIONS; do
  accounts=${spec%%:*}; seed=${spec##*:}
  bundle="$WORK/pop-$accounts-$seed"
  [ -f "$bundle/truth.csv" ] || $RINGTRACE generate --out "$bundle" --accounts "$accounts" --seed "$seed" >/dev/null
  evaluate "generated $accounts accounts, seed $seed" "$bundle"
done
for spec in $DATASETS; do
  name=${spec%%:*}; folder=${spec##*:}
  [ -d "$SHARED/$folder" ] || { echo "=== $name: $SHARED/$folder not found, skipped"; continue; }
  bundle="$WORK/$name"
  $RINGTRACE import-dataset "$name" "$SHARED/$folder" "$bundle" >/dev/null
  evaluate "dataset $name" "$bundle"
done
$RINGTRACE neo4j stop >/dev/null
