// accounts_near_organization: accounts within k hops of a known organisation.
//
// Breadth-first from the organisation over known memberships, the IP addresses it operates and the
// observation links (IP, device, payment method, email, phone): every account reachable in at most
// $max_hops relationships, nearest first, with the ring it is in (if the latest completed run put it
// in one). Two hops reach known members' entities and accounts on the organisation's own addresses;
// four reach accounts that share an identifier with those.
//
// Parameters:
//   $organization  STRING   the organisation's name                  e.g. "Octopus Insights"
//   $max_hops      INTEGER  how far to look, 1..6                     e.g. 4
//   $limit         INTEGER  at most this many accounts                e.g. 200
//
// Returns:
//   account_id   STRING   a reachable account
//   hops         INTEGER  its distance from the organisation, in relationships
//   known_member BOOLEAN  whether it is a known member of the organisation
//   ring_id      STRING?  its ring in the latest completed run, if any
//   via          LIST     the nodes between the organisation and the account, "Label:key"
MATCH (o:Organization {name: $organization})
MATCH p = ANY SHORTEST (o)-[:KNOWN_MEMBER_OF|OPERATED_BY|USED_IP|USED_DEVICE|PAID_WITH|HAS_EMAIL|HAS_PHONE]-{1,6}(a:Account)
WHERE length(p) <= $max_hops
WITH o, a, p ORDER BY length(p), a.account_id LIMIT $limit
CALL (a) {
  OPTIONAL MATCH (run:DetectionRun {status: 'completed'})
  WITH run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
  OPTIONAL MATCH (a)-[:MEMBER_OF {run_id: run.run_id}]->(ring:Ring)
  RETURN ring.ring_id AS ring_id
}
RETURN a.account_id AS account_id, length(p) AS hops, EXISTS { (a)-[:KNOWN_MEMBER_OF]->(o) } AS known_member,
       ring_id,
       [n IN nodes(p)[1..-1] | labels(n)[0] + ':' + coalesce(n.account_id, n.fingerprint, n.address, n.number, n.name)] AS via
ORDER BY hops, account_id;
