// ring_growth: rings that grew between two detection runs.
//
// Rings found by both runs (ring ids are carried over by overlap) that have more members in the later
// run, largest growth first, with the accounts that joined and the change of coordination score.
//
// Parameters:
//   $from_run_id  STRING?  the earlier run (null: the later run's predecessor)   e.g. "run-20261127T141528867491Z-69127e"
//   $to_run_id    STRING?  the later run (null: latest completed run)            e.g. null
//
// Returns:
//   ring_id        STRING   the ring
//   size_before    INTEGER  members in the earlier run
//   size_after     INTEGER  members in the later run
//   growth         INTEGER  size_after - size_before
//   score_before   FLOAT    coordination score in the earlier run
//   score_after    FLOAT    coordination score in the later run
//   joined         LIST     accounts in the later run but not the earlier one
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $to_run_id IS NULL OR run.run_id = $to_run_id
  RETURN run AS later ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
OPTIONAL MATCH (later)-[:FOLLOWS]->(previous:DetectionRun)
MATCH (earlier:DetectionRun {run_id: coalesce($from_run_id, previous.run_id)})
MATCH (earlier)<-[before:FOUND_IN]-(ring:Ring)-[after:FOUND_IN]->(later)
WHERE after.size > before.size
CALL (ring, earlier, later) {
  MATCH (a:Account)-[:MEMBER_OF {run_id: later.run_id}]->(ring)
  WHERE NOT EXISTS { (a)-[:MEMBER_OF {run_id: earlier.run_id}]->(ring) }
  WITH a ORDER BY a.account_id
  RETURN collect(a.account_id) AS joined
}
RETURN ring.ring_id AS ring_id, before.size AS size_before, after.size AS size_after,
       after.size - before.size AS growth, before.score AS score_before, after.score AS score_after, joined
ORDER BY growth DESC, ring_id;
