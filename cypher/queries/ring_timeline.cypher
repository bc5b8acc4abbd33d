// ring_timeline: a ring's timeline of first-seen links.
//
// Every observation link of a ring's members to an entity that at least one other member also used,
// in the order the links were first seen: how the ring's shared infrastructure came together.
//
// Parameters:
//   $ring_id  STRING   the ring                                        e.g. "ring-994670d9e9"
//   $run_id   STRING?  the detection run (null: latest completed run)  e.g. null
//   $limit    INTEGER  at most this many links                          e.g. 200
//
// Returns:
//   first_seen    DATETIME  when the link was first observed
//   last_seen     DATETIME? when it was last observed
//   account_id    STRING    the member account
//   relationship  STRING    USED_IP, USED_DEVICE, PAID_WITH, HAS_EMAIL or HAS_PHONE
//   label         STRING    the entity's label
//   entity        STRING    the entity's key
//   shared_with   INTEGER   other members that used the same entity
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
MATCH (ring:Ring {ring_id: $ring_id})-[:FOUND_IN]->(run)
MATCH (a:Account)-[:MEMBER_OF {run_id: run.run_id}]->(ring)
MATCH (a)-[r:USED_IP|USED_DEVICE|PAID_WITH|HAS_EMAIL|HAS_PHONE]->(e)
WHERE r.first_seen IS NOT NULL
WITH ring, run, a, r, e,
     COUNT { (e)<-[:USED_IP|USED_DEVICE|PAID_WITH|HAS_EMAIL|HAS_PHONE]-(b:Account)-[:MEMBER_OF {run_id: run.run_id}]->(ring)
             WHERE b <> a } AS shared_with
WHERE shared_with > 0
RETURN r.first_seen AS first_seen, r.last_seen AS last_seen, a.account_id AS account_id, type(r) AS relationship,
       labels(e)[0] AS label, coalesce(e.fingerprint, e.address, e.number) AS entity, shared_with
ORDER BY first_seen, account_id, entity
LIMIT $limit;
