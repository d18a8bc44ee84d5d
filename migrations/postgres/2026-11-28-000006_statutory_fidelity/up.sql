-- Statutory fidelity: what each regime allows, as data.
-- 2019 Art. 35 lets the agency set a later reply date; the 2008 Regulation has no such delay.
-- 2008 Art. 24 leaves out of the reply period only the time spent consulting a third party; 2019
-- Art. 33(3) also the time spent consulting other agencies.
ALTER TABLE regimes ADD COLUMN agency_delay_allowed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE regimes ADD COLUMN paused_consultations TEXT NOT NULL DEFAULT 'third_party,other_agency';
UPDATE regimes SET agency_delay_allowed = FALSE, paused_consultations = 'third_party' WHERE code = 'ogi2008';

-- A replayed registration answers with the first response's headers too.
ALTER TABLE idempotency_keys ADD COLUMN response_location TEXT;
ALTER TABLE idempotency_keys ADD COLUMN response_etag TEXT;

-- A repeat request (2019 Art. 36 (六)) may name a request answered before the office used this service.
ALTER TABLE cases ADD COLUMN repeat_of_earlier TEXT;

-- Fees count in the year they are paid (the pre-2019 row 依申请公开信息收取的费用 is money collected);
-- waivers in the year they are decided.
ALTER TABLE cases ADD COLUMN fee_paid_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN fee_paid_on DATE;
ALTER TABLE cases ADD COLUMN fee_receipt_number TEXT;
ALTER TABLE cases ADD COLUMN fee_waived_on DATE;
CREATE INDEX cases_fee_paid_on_idx ON cases (fee_paid_on);
CREATE INDEX cases_fee_waived_on_idx ON cases (fee_waived_on);

-- New replies ordered on appeal (重新答复): shown on the case, counted in the year they are served.
ALTER TABLE cases ADD COLUMN re_replies TEXT;
ALTER TABLE cases ADD COLUMN re_replied_on DATE;
CREATE INDEX cases_re_replied_on_idx ON cases (re_replied_on);
