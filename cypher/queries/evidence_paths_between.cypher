// evidence_paths_between: the shortest evidence paths that connect two accounts.
//
// Every shortest path between the two accounts over observation links (IP, device, payment method,
// email, phone) and organisation links (known members, operated IP addresses), up to $max_hops
// relationships. Detection results (rings, runs) are not evidence and are not traversed.
//
// Parameters:
//   $account_a  STRING   one account                                   e.g. "acc_0000451"
//   $account_b  STRING   the other account                             e.g. "acc_0000453"
//   $max_hops   INTEGER  longest path considered, 1..8                 e.g. 4
//
// Returns:
//   hops           INTEGER  relationships on the path
//   path_text      STRING   the path, node by node: (:Label key)-[:TYPE]-(...)
//   via            LIST     the entities and organisations on the path, "Label:key"
//   first_seen     DATETIME the latest first-seen date on the path (when the link was complete); null without dates
//   path           PATH     the path itself (for Browser and Bloom)
MATCH (a:Account {account_id: $account_a}), (b:Account {account_id: $account_b})
MATCH p = ALL SHORTEST (a)-[:USED_IP|USED_DEVICE|PAID_WITH|HAS_EMAIL|HAS_PHONE|KNOWN_MEMBER_OF|OPERATED_BY]-{1,8}(b)
WHERE length(p) <= $max_hops
WITH p,
     [n IN nodes(p) | '(:' + labels(n)[0] + ' ' + coalesce(n.account_id, n.fingerprint, n.address, n.number, n.name, n.cidr) + ')'] AS shown,
     [r IN relationships(p) | type(r)] AS types
RETURN length(p) AS hops,
       reduce(text = shown[0], i IN range(0, size(types) - 1) | text + '-[:' + types[i] + ']-' + shown[i + 1]) AS path_text,
       [n IN nodes(p)[1..-1] | labels(n)[0] + ':' + coalesce(n.account_id, n.fingerprint, n.address, n.number, n.name, n.cidr)] AS via,
       reduce(latest = null, r IN relationships(p) |
              CASE WHEN r.first_seen IS NOT NULL AND (latest IS NULL OR r.first_seen > latest) THEN r.first_seen ELSE latest END) AS first_seen,
       p AS path
ORDER BY hops, path_text
LIMIT 100;
