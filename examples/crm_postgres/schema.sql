-- The CRM's tables for leadscore (crm_app.c creates them with `init`).
--
-- One row per member with its scoring state as bytes (ls_store_export_member),
-- an outbox of changes (what sales and automations read), and how far the
-- event feed has been applied. All three change in one transaction per batch
-- of events, so a crash anywhere loses nothing and applies nothing twice.

CREATE TABLE IF NOT EXISTS leadscore_member (
  member_id  text PRIMARY KEY,
  state      bytea NOT NULL,      -- leadscore member state: versioned, checksummed
  updated_at_seq bigint NOT NULL  -- feed position of the last event that changed it
);

CREATE TABLE IF NOT EXISTS leadscore_change (
  id        bigserial PRIMARY KEY, -- emission order
  seq       bigint NOT NULL,       -- feed position of the event (-1: `finish`)
  member_id text NOT NULL,
  kind      text NOT NULL,         -- tag_added, stage_changed, flag_raised, ...
  change    text NOT NULL          -- the change as JSON (a changes.jsonl line)
);

CREATE TABLE IF NOT EXISTS leadscore_progress (
  feed     text PRIMARY KEY,
  next_seq bigint NOT NULL        -- the first feed position not applied yet
);
