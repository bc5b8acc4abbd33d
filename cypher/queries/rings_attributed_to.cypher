// rings_attributed_to: the rings a run attributes to an organisation, at or above a confidence.
//
// Ring-level attributions (Ring)-[:ATTRIBUTED_TO]->(Organization) of one detection run, most
// confident first, with the ring's size and coordination score in that run.
//
// Parameters:
//   $organization    STRING   the organisation's name                           e.g. "Octopus Insights"
//   $min_confidence  FLOAT    lowest attribution confidence shown (0..1)        e.g. 0.5
//   $run_id          STRING?  the detection run (null: latest completed run)    e.g. null
//
// Returns:
//   ring_id                 STRING   the ring
//   run_id                  STRING   the run that made the attribution
//   size                    INTEGER  member accounts in that run
//   coordination_score      FLOAT    probability that the ring is one operator
//   attribution_confidence  FLOAT    probability that the organisation operates it
//   prior_llr               FLOAT    log-likelihood ratio of the prior, before evidence
//   top_organization        BOOLEAN  whether this organisation is the ring's most likely one
CALL () {
  MATCH (run:DetectionRun {status: 'completed'})
  WHERE $run_id IS NULL OR run.run_id = $run_id
  RETURN run ORDER BY run.finished_at DESC, run.run_id DESC LIMIT 1
}
MATCH (ring:Ring)-[found:FOUND_IN]->(run)
MATCH (ring)-[t:ATTRIBUTED_TO {run_id: run.run_id}]->(o:Organization {name: $organization})
WHERE t.confidence >= $min_confidence
RETURN ring.ring_id AS ring_id, run.run_id AS run_id, found.size AS size, found.score AS coordination_score,
       t.confidence AS attribution_confidence, coalesce(t.prior_llr, 0.0) AS prior_llr,
       coalesce(found.organization = o.name, false) AS top_organization
ORDER BY attribution_confidence DESC, coordination_score DESC, ring_id;
