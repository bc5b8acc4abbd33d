// ring_templates: the prompt templates a ring's members sent in common.
//
// Every prompt template (a family of near-duplicate prompts) that at least two members of a ring
// sent, as a detection run found the ring, most members first. `accounts` says how rare the template
// is: one that few accounts outside the ring send is telling, one that thousands send is a popular
// public prompt. Prompts no other account sent share the bucket template "unshared", which is not a
// template and is left out. `skeleton` (the template's shared words, the varying parts masked) is
// kept only for templates at least 5 accounts sent; the text of a prompt is never stored.
//
// Parameters:
//   $ring_id  STRING   the ring                                        e.g. "ring-994670d9e9"
//   $run_id   STRING?  the detection run (null: latest completed run)  e.g. null
//   $limit    INTEGER  at most this many templates                      e.g. 50
//
// Returns:
//   ring_id          STRING    the ring
//   run_id           STRING    the run whose membership is shown
//   fingerprint      STRING    the template
//   skeleton         STRING?   its shared words, varying parts masked as "…" (null below 5 senders)
//   source           STRING    "text" (fingerprinted from prompts) or "provider" (the provider's own id)
//   members          INTEGER   ring members that sent it
//   member_accounts  LIST      those members' account ids
//   requests         INTEGER   requests the members sent with it
//   first_seen       DATETIME  when a member first sent it
//   last_seen        DATETIME  when a member last sent it
//   accounts         INTEGER   accounts that sent it at all, members or not
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
MATCH (ring:Ring {ring_id: $ring_id})-[:FOUND_IN]->(run)
MATCH (a:Account)-[:MEMBER_OF {run_id: run.run_id}]->(ring)
MATCH (a)-[s:SENT]->(t:PromptTemplate)
WHERE t.fingerprint <> 'unshared'
// ordered before collecting, so member_accounts comes sorted
WITH ring, run, t, a, s ORDER BY a.account_id
WITH ring, run, t, collect(a.account_id) AS member_accounts, sum(s.count) AS requests,
     min(s.first_seen) AS first_seen, max(s.last_seen) AS last_seen
WHERE size(member_accounts) >= 2
RETURN ring.ring_id AS ring_id, run.run_id AS run_id, t.fingerprint AS fingerprint, t.skeleton AS skeleton,
       t.source AS source, size(member_accounts) AS members, member_accounts, requests, first_seen, last_seen,
       t.accounts AS accounts
ORDER BY members DESC, accounts, fingerprint
LIMIT $limit;
