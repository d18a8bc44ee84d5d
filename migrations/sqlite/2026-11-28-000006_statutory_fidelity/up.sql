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
