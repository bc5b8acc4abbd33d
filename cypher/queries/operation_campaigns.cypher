// operation_campaigns: an operation's campaigns (rings) in the order they ran, and what ties them.
//
// An operation groups the rings (campaigns) of one operator that a detection run found tied: a device,
// card, phone or mailbox members of both used, accounts an earlier case attributed to one organisation,
// or an organisation's own network. One row per campaign of the operation as the run (default: the
// latest completed run) found it, earliest first: its size, coordination score and attribution, the
// window its members were active in, and the days since the campaign before it ended. `tied_to` names
// the campaigns its ties reach and `ties` holds those ties as the run stored them (JSON: kind, rings,
// sentence and the graph paths behind it); `shared` names what its members share, in the graph, with
// members of the operation's other campaigns (devices, cards, phones, emails, known organisations).
//
// Parameters:
//   $operation_id  STRING   the operation                                   e.g. "op-3f9a2c61d0"
//   $run_id        STRING?  the detection run (null: latest completed run)  e.g. null
//
// Returns:
//   operation_id   STRING     the operation
//   run_id         STRING     the run whose operation is shown
//   position       INTEGER    the campaign's place in the operation, 1 = the earliest
//   ring_id        STRING     the campaign (ring)
//   size           INTEGER    its member accounts
//   score          FLOAT      its coordination score (0..1)
//   organization   STRING?    the organisation it is most likely attributed to
//   active_from    DATETIME?  when most of its members' observations begin
//   active_to      DATETIME?  when they end
//   gap_days       INTEGER?   days from the end of the campaign before it to its start (null for the first)
//   tied_to        LIST       the operation's other campaigns its ties reach, earliest first
//   shared         LIST       "Label:key (n campaigns)" its members share with other campaigns' members, most first
//   ties           STRING?    the ties touching it, as stored: a JSON list of {kind, rings, sentence, paths}
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
MATCH (op:Operation {operation_id: $operation_id})-[found:FOUND_IN]->(run)
MATCH (ring:Ring)-[part:PART_OF {run_id: run.run_id}]->(op)
MATCH (ring)-[campaign:FOUND_IN]->(run)
WITH run, op, found, ring, part, campaign,
     coalesce([i IN range(0, size(found.ring_ids) - 1) WHERE found.ring_ids[i] = ring.ring_id][0],
              size(found.ring_ids)) AS position
OPTIONAL MATCH (previous:Ring {ring_id: found.ring_ids[position - 1]})-[before:FOUND_IN]->(run)
WHERE position > 0
CALL (run, op, ring) {
  OPTIONAL MATCH (ring)<-[:MEMBER_OF {run_id: run.run_id}]-(:Account)
                 -[:USED_DEVICE|PAID_WITH|HAS_PHONE|HAS_EMAIL|KNOWN_MEMBER_OF]->(e)
                 <-[:USED_DEVICE|PAID_WITH|HAS_PHONE|HAS_EMAIL|KNOWN_MEMBER_OF]-(:Account)
                 -[:MEMBER_OF {run_id: run.run_id}]->(other:Ring)-[:PART_OF {run_id: run.run_id}]->(op)
  WHERE other <> ring
  WITH e, count(DISTINCT other) AS campaigns
  ORDER BY campaigns DESC, labels(e)[0], coalesce(e.fingerprint, e.address, e.number, e.name)
  LIMIT 20
  RETURN collect(labels(e)[0] + ':' + coalesce(e.fingerprint, e.address, e.number, e.name)
                 + ' (' + toString(campaigns + 1) + ' campaigns)') AS shared
}
RETURN op.operation_id AS operation_id, run.run_id AS run_id, position + 1 AS position, ring.ring_id AS ring_id,
       campaign.size AS size, campaign.score AS score, campaign.organization AS organization,
       datetime(campaign.active_from) AS active_from, datetime(campaign.active_to) AS active_to,
       duration.inDays(datetime(before.active_to), datetime(campaign.active_from)).days AS gap_days,
       [id IN found.ring_ids WHERE id <> ring.ring_id AND part.evidence CONTAINS ('"' + id + '"')] AS tied_to,
       shared, part.evidence AS ties
ORDER BY position, ring_id;
