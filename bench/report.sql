-- The hand-written equivalent of one annual report (here y2021, 2020, agency BENCH and its subtree):
-- the same aggregates the service runs, with nothing else. bench/report.sh times it against the service.
\set pattern '/BENCH/%'
\set y0 '2020-01-01'
\set y1 '2020-12-31'
SELECT c.channel, c.applicant_kind, count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id
 WHERE a.path LIKE :'pattern' AND c.received_on BETWEEN :'y0' AND :'y1' GROUP BY c.channel, c.applicant_kind;
SELECT c.applicant_kind, count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id
 WHERE a.path LIKE :'pattern' AND c.received_on < :'y0' AND (c.closed_on IS NULL OR c.closed_on >= :'y0') GROUP BY c.applicant_kind;
SELECT c.applicant_kind, count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id
 WHERE a.path LIKE :'pattern' AND c.received_on <= :'y1' AND (c.closed_on IS NULL OR c.closed_on > :'y1') GROUP BY c.applicant_kind;
SELECT c.applicant_kind, c.outcome, c.outcome_reason, c.already_public, c.closed_as, count(*), sum(c.fee_charged_fen)
  FROM cases c JOIN agencies a ON a.id = c.agency_id
 WHERE a.path LIKE :'pattern' AND c.closed_on BETWEEN :'y0' AND :'y1'
 GROUP BY c.applicant_kind, c.outcome, c.outcome_reason, c.already_public, c.closed_as;
SELECT p.kind, p.outcome, p.decided_on, count(*) FROM case_appeals p JOIN cases c ON c.id = p.case_id
  JOIN agencies a ON a.id = c.agency_id
 WHERE p.filed_on BETWEEN :'y0' AND :'y1' AND a.path LIKE :'pattern' GROUP BY p.kind, p.outcome, p.decided_on;
SELECT c.topic, count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id
 WHERE a.path LIKE :'pattern' AND c.received_on BETWEEN :'y0' AND :'y1' GROUP BY c.topic;
SELECT c.received_on, c.closed_on, count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id
 WHERE a.path LIKE :'pattern' AND c.closed_on BETWEEN :'y0' AND :'y1' AND c.closed_as IN ('on_time', 'extended', 'late_reply')
 GROUP BY c.received_on, c.closed_on;
SELECT c.tracking_number, a.code, c.received_on, c.state, c.final_due_on FROM cases c JOIN agencies a ON a.id = c.agency_id
 WHERE a.path LIKE :'pattern' AND c.received_on <= :'y1' AND (c.closed_on IS NULL OR c.closed_on > :'y1')
 ORDER BY c.received_on, c.id LIMIT 10;
