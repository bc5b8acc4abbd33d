// operation_campaigns: an operation's campaigns (rings) in the order they ran, and what ties them.
//
// An operation groups the rings (campaigns) of one operator that a detection run found tied: a device,
// card, phone, mailbox or hosting or corporate address members of both used, accounts an earlier case
// attributed to one organisation, or an organisation's own network. One row per campaign of the
// operation as the run (default: the latest completed run) found it, earliest first: its size,
// coordination score and attribution, the window its members were active in and the days since the
// campaign before it ended. `tied_to` names the campaigns the run tied it to (its PART_OF evidence,
// which also holds each tie's sentence and paths as JSON); `ties` says, from the graph, what connects
// it to each of them: the asset members of both used, or the organisation whose known members or
// own addresses both campaigns have.
//
// Parameters:
//   $operation_id  STRING   the operation                                   e.g. "op-3f9a2c61d0"
//   $run_id        STRING?  the detection run (null: latest completed run)  e.g. null
//
// Returns:
//   run_id         STRING     the run whose operation is shown
//   position       INTEGER    the campaign's place in the operation, 1 = the earliest
//   ring_id        STRING     the campaign (ring)
//   size           INTEGER    its member accounts
//   score          FLOAT      its coordination score (0..1)
//   organization   STRING?    the organisation it is most likely attributed to
//   active_from    DATETIME?  when most of its members' observations begin
//   active_to      DATETIME?  when they end
//   gap_days       INTEGER?   days from the end of the campaign before it to its start (negative: they overlap)
//   tied_to        LIST       the campaigns of the operation the run tied it to, earliest first
//   ties           LIST       what connects it to each, at most 5: "ring via Label:key", "ring via TYPE Organization:name"
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
MATCH (op:Operation {operation_id: $operation_id})-[found:FOUND_IN]->(run)
MATCH (ring:Ring)-[part:PART_OF {run_id: run.run_id}]->(op)
MATCH (ring)-[campaign:FOUND_IN]->(run)
WITH run, found, ring, campaign,
     coalesce([i IN range(0, size(found.ring_ids) - 1) WHERE found.ring_ids[i] = ring.ring_id][0],
              size(found.ring_ids)) AS position,
     // the ring ids its ties name, quoted as the JSON evidence quotes them
     [id IN found.ring_ids WHERE id <> ring.ring_id AND part.evidence CONTAINS ('"' + id + '"')] AS tied_to
OPTIONAL MATCH (previous:Ring {ring_id: found.ring_ids[position - 1]})-[before:FOUND_IN]->(run)
WHERE position > 0
CALL (run, ring, tied_to) {
  UNWIND range(0, size(tied_to) - 1) AS at
  MATCH (other:Ring {ring_id: tied_to[at]})
  CALL (run, ring, other) {
    // an asset: never a residential, mobile, VPN or Tor address, whose exits carry anyone's traffic
    MATCH (ring)<-[:MEMBER_OF {run_id: run.run_id}]-(:Account)-[:USED_DEVICE|PAID_WITH|HAS_PHONE|HAS_EMAIL|USED_IP]->(e)
          <-[:USED_DEVICE|PAID_WITH|HAS_PHONE|HAS_EMAIL|USED_IP]-(:Account)-[:MEMBER_OF {run_id: run.run_id}]->(other)
    WHERE NOT e:IP OR e.network IN ['hosting', 'corporate']
    RETURN DISTINCT labels(e)[0] + ':' + coalesce(e.fingerprint, e.address, e.number) AS via
    UNION
    MATCH (ring)<-[:MEMBER_OF {run_id: run.run_id}]-(:Account)-[k:KNOWN_MEMBER_OF]->(o:Organization)
          <-[:KNOWN_MEMBER_OF]-(:Account)-[:MEMBER_OF {run_id: run.run_id}]->(other)
    RETURN DISTINCT type(k) + ' ' + labels(o)[0] + ':' + o.name AS via
    UNION
    // an organisation's own network: where it acts (its corporate network, or any range of an
    // organisation with known members), not an ISP or cloud that merely hosts the operator
    MATCH (ring)<-[:MEMBER_OF {run_id: run.run_id}]-(:Account)-[:USED_IP]->(ip:IP)-[t:OPERATED_BY]->(o:Organization)
          <-[:OPERATED_BY]-(:IP)<-[:USED_IP]-(:Account)-[:MEMBER_OF {run_id: run.run_id}]->(other)
    WHERE ip.network = 'corporate' OR EXISTS { (:Account)-[:KNOWN_MEMBER_OF]->(o) }
    RETURN DISTINCT type(t) + ' ' + labels(o)[0] + ':' + o.name AS via
  }
  WITH at, other, via ORDER BY via
  WITH at, other, collect(via)[..5] AS vias
  ORDER BY at
  UNWIND vias AS via
  RETURN collect(other.ring_id + ' via ' + via) AS ties
}
RETURN run.run_id AS run_id, position + 1 AS position, ring.ring_id AS ring_id,
       campaign.size AS size, campaign.score AS score, campaign.organization AS organization,
       datetime(campaign.active_from) AS active_from, datetime(campaign.active_to) AS active_to,
       duration.inDays(datetime(before.active_to), datetime(campaign.active_from)).days AS gap_days,
       tied_to, ties
ORDER BY position, ring_id;
