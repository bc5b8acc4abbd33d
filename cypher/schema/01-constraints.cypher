// Uniqueness constraints: one per node key (DESIGN.md §2). Each also backs an index for MERGE.
CREATE CONSTRAINT account_id IF NOT EXISTS FOR (n:Account) REQUIRE n.account_id IS UNIQUE;
CREATE CONSTRAINT ip_address IF NOT EXISTS FOR (n:IP) REQUIRE n.address IS UNIQUE;
CREATE CONSTRAINT device_fingerprint IF NOT EXISTS FOR (n:Device) REQUIRE n.fingerprint IS UNIQUE;
CREATE CONSTRAINT payment_fingerprint IF NOT EXISTS FOR (n:PaymentMethod) REQUIRE n.fingerprint IS UNIQUE;
CREATE CONSTRAINT email_address IF NOT EXISTS FOR (n:Email) REQUIRE n.address IS UNIQUE;
CREATE CONSTRAINT phone_number IF NOT EXISTS FOR (n:Phone) REQUIRE n.number IS UNIQUE;
CREATE CONSTRAINT prompt_template_fingerprint IF NOT EXISTS FOR (n:PromptTemplate) REQUIRE n.fingerprint IS UNIQUE;
CREATE CONSTRAINT model_name IF NOT EXISTS FOR (n:Model) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT organization_name IF NOT EXISTS FOR (n:Organization) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT ip_range_cidr IF NOT EXISTS FOR (n:IPRange) REQUIRE n.cidr IS UNIQUE;
// The version of the stored ranges, which every IP's enrichment is compared with: one node per table.
CREATE CONSTRAINT ip_range_table_name IF NOT EXISTS FOR (n:IPRangeTable) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT ring_id IF NOT EXISTS FOR (n:Ring) REQUIRE n.ring_id IS UNIQUE;
CREATE CONSTRAINT operation_id IF NOT EXISTS FOR (n:Operation) REQUIRE n.operation_id IS UNIQUE;
CREATE CONSTRAINT detection_run_id IF NOT EXISTS FOR (n:DetectionRun) REQUIRE n.run_id IS UNIQUE;
CREATE CONSTRAINT scoring_model_version IF NOT EXISTS FOR (n:ScoringModel) REQUIRE n.version IS UNIQUE;
CREATE CONSTRAINT detection_lock_name IF NOT EXISTS FOR (n:DetectionLock) REQUIRE n.name IS UNIQUE;
