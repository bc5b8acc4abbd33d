// ring_joiners: accounts that joined a ring since a date or since a detection run.
//
// Members of a ring in a run (default: the latest completed run) that were not members of the same
// ring in the baseline: the run $since_run_id if given, every completed run started before $since if
// given, and the run's predecessor (its FOLLOWS link) when neither is given.
//
// Parameters:
//   $since_run_id  STRING?    baseline run                                       e.g. "run-20261127T141528867491Z-69127e"
//   $since         DATETIME?  baseline date: runs started before it (ISO 8601)   e.g. "2026-11-01T00:00:00Z"
//   $run_id        STRING?    the later run (null: latest completed run)         e.g. null
//
// Returns:
//   ring_id                STRING    the ring joined
//   account_id             STRING    the account that joined it
//   membership_confidence  FLOAT     its membership confidence in the later run
//   created_at             DATETIME? when the account was created
//   run_id                 STRING    the later run
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
OPTIONAL MATCH (run)-[:FOLLOWS]->(previous:DetectionRun)
MATCH (a:Account)-[m:MEMBER_OF {run_id: run.run_id}]->(ring:Ring)
WHERE NOT EXISTS {
  MATCH (a)-[old:MEMBER_OF]->(ring)
  MATCH (baseline:DetectionRun {run_id: old.run_id})
  WHERE baseline.run_id <> run.run_id
    AND (baseline.run_id = $since_run_id
         OR baseline.started_at < datetime($since)
         OR ($since_run_id IS NULL AND $since IS NULL AND baseline.run_id = previous.run_id))
}
  AND ($since_run_id IS NOT NULL OR $since IS NOT NULL OR previous IS NOT NULL)
RETURN ring.ring_id AS ring_id, a.account_id AS account_id, m.confidence AS membership_confidence,
       a.created_at AS created_at, run.run_id AS run_id
ORDER BY ring_id, account_id;
