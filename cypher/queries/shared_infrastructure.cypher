// shared_infrastructure: the entities shared by the most rings (likely one operator's infrastructure).
//
// A device, payment method, IP, email or phone that accounts of several distinct rings used points to
// one operator behind those rings, or to shared infrastructure (a carrier NAT, a VPN exit): the
// network class of IPs is shown so the two can be told apart.
//
// Parameters:
//   $min_rings  INTEGER  only entities used by at least this many rings      e.g. 2
//   $limit      INTEGER  at most this many entities                          e.g. 25
//   $run_id     STRING?  the detection run (null: latest completed run)      e.g. null
//
// Returns:
//   label     STRING   the entity's label: IP, Device, PaymentMethod, Email or Phone
//   entity    STRING   its key (address, fingerprint, number)
//   network   STRING?  an IP's network class (residential, mobile, hosting, vpn, tor, corporate, unknown)
//   rings     INTEGER  distinct rings whose members used it
//   accounts  INTEGER  distinct ring members that used it
//   ring_ids  LIST     the rings, by id
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
MATCH (ring:Ring)-[:FOUND_IN]->(run)
MATCH (a:Account)-[:MEMBER_OF {run_id: run.run_id}]->(ring)
MATCH (a)-[:USED_IP|USED_DEVICE|PAID_WITH|HAS_EMAIL|HAS_PHONE]->(e)
WITH e, count(DISTINCT ring) AS rings, count(DISTINCT a) AS accounts, collect(DISTINCT ring.ring_id) AS ring_ids
WHERE rings >= $min_rings
RETURN labels(e)[0] AS label, coalesce(e.fingerprint, e.address, e.number) AS entity, e.network AS network,
       rings, accounts, ring_ids
ORDER BY rings DESC, accounts DESC, label, entity
LIMIT $limit;
