-- Workflow: who handles a case, how it ended (the legal basis of its outcome, never a report row),
-- service of the reply, transfers, fees in fen, and appeals and complaints.

ALTER TABLE cases ADD COLUMN handler_id TEXT REFERENCES users (id);
-- The final outcome: kind (disclosed, partly_disclosed, withheld, unable, not_processed, other),
-- its reason, and the 属于已主动公开 flag.
ALTER TABLE cases ADD COLUMN outcome TEXT;
ALTER TABLE cases ADD COLUMN outcome_reason TEXT;
ALTER TABLE cases ADD COLUMN already_public BOOLEAN NOT NULL DEFAULT FALSE;
-- A repeat request (Art. 36 (六)) names the earlier case.
ALTER TABLE cases ADD COLUMN repeat_of_case_id TEXT REFERENCES cases (id);
-- The outcome of the reply awaiting approval (JSON), if any.
ALTER TABLE cases ADD COLUMN draft_outcome TEXT;
ALTER TABLE cases ADD COLUMN served_on DATE;
ALTER TABLE cases ADD COLUMN service_method TEXT;
ALTER TABLE cases ADD COLUMN transferred_to_case_id TEXT REFERENCES cases (id);
ALTER TABLE cases ADD COLUMN transferred_from_case_id TEXT REFERENCES cases (id);
-- Fees in fen: what the applicant was asked to pay, and what was waived (减免).
ALTER TABLE cases ADD COLUMN fee_charged_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN fee_waived_fen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_handler_idx ON cases (handler_id);
CREATE INDEX cases_closed_on_idx ON cases (closed_on);

-- Administrative reconsideration, litigation (direct or after reconsideration) and complaints
-- against a case: a projection of its events, numbered per case.
CREATE TABLE case_appeals (
    case_id     TEXT NOT NULL REFERENCES cases (id),
    number      INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    filed_on    DATE NOT NULL,
    reference   TEXT,
    outcome     TEXT NOT NULL,
    decided_on  DATE,
    PRIMARY KEY (case_id, number)
);
CREATE INDEX case_appeals_filed_idx ON case_appeals (filed_on);

-- Which fee law a regime applies.
ALTER TABLE regimes ADD COLUMN fee_scheme TEXT NOT NULL DEFAULT 'processing_2020';
UPDATE regimes SET fee_scheme = 'cost_2008' WHERE code = 'ogi2008';
