-- The hand-written equivalent of one annual report: the same aggregates, with nothing else (no HTTP,
-- no authentication, no labels or checks). Variables: pattern (agency paths, e.g. '/BENCH/%' for the
-- whole city or '/BENCH/BENCH-03/' for one department), y0 and y1 (the year's first and last day).
-- bench/report.sh and bench/scale.sh time it against the service.
SELECT c.channel, c.applicant_kind, count(*) FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.received_on BETWEEN :'y0' AND :'y1' GROUP BY c.channel, c.applicant_kind;
SELECT c.applicant_kind, count(*) FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.received_on < :'y0' AND (c.closed_on IS NULL OR c.closed_on >= :'y0') GROUP BY c.applicant_kind;
SELECT c.applicant_kind, count(*) FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.received_on <= :'y1' AND (c.closed_on IS NULL OR c.closed_on > :'y1') GROUP BY c.applicant_kind;
SELECT c.applicant_kind, c.outcome, c.outcome_reason, c.already_public, c.closed_as, count(*) FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.closed_on BETWEEN :'y0' AND :'y1'
 GROUP BY c.applicant_kind, c.outcome, c.outcome_reason, c.already_public, c.closed_as;
SELECT sum(c.fee_paid_fen), count(*) FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.fee_paid_on BETWEEN :'y0' AND :'y1';
SELECT p.kind, p.outcome, p.decided_on, count(*) FROM case_appeals p JOIN cases c ON c.id = p.case_id
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND p.filed_on BETWEEN :'y0' AND :'y1' GROUP BY p.kind, p.outcome, p.decided_on;
SELECT c.topic, count(*) FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.received_on BETWEEN :'y0' AND :'y1' GROUP BY c.topic;
SELECT c.received_on, c.closed_on, count(*) FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.closed_on BETWEEN :'y0' AND :'y1' AND c.closed_as IN ('on_time', 'extended', 'late_reply')
 GROUP BY c.received_on, c.closed_on;
SELECT c.tracking_number, c.received_on, c.state, c.final_due_on FROM cases c
 WHERE c.agency_id IN (SELECT id FROM agencies WHERE path LIKE :'pattern') AND c.state <> 'voided'
   AND c.received_on <= :'y1' AND (c.closed_on IS NULL OR c.closed_on > :'y1')
 ORDER BY c.received_on, c.id LIMIT 10;
