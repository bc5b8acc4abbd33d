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
// What changed since a detection run (`changed_at`, epoch ms, stamped by every load): an incremental
// run (`ringtrace detect --incremental`) finds the links, usage and IP enrichment written after its
// base run without reading the rest (graph/store/change_reads.py).
CREATE INDEX used_ip_changed IF NOT EXISTS FOR ()-[r:USED_IP]-() ON (r.changed_at);
CREATE INDEX used_device_changed IF NOT EXISTS FOR ()-[r:USED_DEVICE]-() ON (r.changed_at);
CREATE INDEX paid_with_changed IF NOT EXISTS FOR ()-[r:PAID_WITH]-() ON (r.changed_at);
CREATE INDEX has_email_changed IF NOT EXISTS FOR ()-[r:HAS_EMAIL]-() ON (r.changed_at);
CREATE INDEX has_phone_changed IF NOT EXISTS FOR ()-[r:HAS_PHONE]-() ON (r.changed_at);
CREATE INDEX sent_changed IF NOT EXISTS FOR ()-[r:SENT]-() ON (r.changed_at);
CREATE INDEX ip_changed IF NOT EXISTS FOR (n:IP) ON (n.changed_at);
