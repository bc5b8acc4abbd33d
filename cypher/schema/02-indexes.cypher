// Indexes for the lookups the pipeline, the API and analysts make.
CREATE INDEX account_email_domain IF NOT EXISTS FOR (n:Account) ON (n.email_domain);
CREATE INDEX account_created_at IF NOT EXISTS FOR (n:Account) ON (n.created_at);
CREATE INDEX ip_network IF NOT EXISTS FOR (n:IP) ON (n.network);
// IPs still to enrich from the current ranges (ranges_version below the table's): an API request
// finds a bounded number of them without scanning every IP.
CREATE INDEX ip_ranges_version IF NOT EXISTS FOR (n:IP) ON (n.ranges_version);
CREATE INDEX ring_score IF NOT EXISTS FOR (n:Ring) ON (n.score);
CREATE INDEX ring_run IF NOT EXISTS FOR (n:Ring) ON (n.run_id);
CREATE INDEX detection_run_started IF NOT EXISTS FOR (n:DetectionRun) ON (n.started_at);
CREATE INDEX organization_domain IF NOT EXISTS FOR (n:Organization) ON (n.domain);
