// ring_members: the members of a ring and the entities they share with each other.
//
// One row per member account of the ring as a detection run found it, highest membership confidence
// first, with every device, payment method, IP, email or phone the account shares with at least one
// other member of the same ring. Shared entities are what makes the ring a ring.
//
// Parameters:
//   $ring_id  STRING   the ring                                        e.g. "ring-994670d9e9"
//   $run_id   STRING?  the detection run (null: latest completed run)  e.g. null
//
// Returns:
//   ring_id                STRING   the ring
//   run_id                 STRING   the run whose membership is shown
//   account_id             STRING   a member account
//   membership_confidence  FLOAT    how surely the account belongs to the ring (0..1)
//   shared_count           INTEGER  how many entities it shares with other members
//   shared_entities        LIST     "Label:key (n members)" per shared entity, most shared first
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
MATCH (ring:Ring {ring_id: $ring_id})-[:FOUND_IN]->(run)
MATCH (a:Account)-[m:MEMBER_OF {run_id: run.run_id}]->(ring)
CALL (a, ring, run) {
  OPTIONAL MATCH (a)-[:USED_IP|USED_DEVICE|PAID_WITH|HAS_EMAIL|HAS_PHONE]->(e)
                 <-[:USED_IP|USED_DEVICE|PAID_WITH|HAS_EMAIL|HAS_PHONE]-(b:Account)-[:MEMBER_OF {run_id: run.run_id}]->(ring)
  WHERE b <> a
  WITH e, count(DISTINCT b) + 1 AS members
  ORDER BY members DESC, labels(e)[0], coalesce(e.fingerprint, e.address, e.number)
  RETURN collect(labels(e)[0] + ':' + coalesce(e.fingerprint, e.address, e.number)
                 + ' (' + toString(members) + ' members)') AS shared_entities
}
RETURN ring.ring_id AS ring_id, run.run_id AS run_id, a.account_id AS account_id,
       m.confidence AS membership_confidence, size(shared_entities) AS shared_count, shared_entities
ORDER BY membership_confidence DESC, shared_count DESC, account_id;
