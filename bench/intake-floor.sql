-- pgbench script: the writes of one registration (counter, case row, three chained events), exactly as the service issues them, without
-- HTTP, JSON, authentication or the pool. Variables: agency (agency id), actor (user id).
BEGIN;
INSERT INTO tracking_counters (agency_id, year, last_value) VALUES (':agency', 2015, 1)
  ON CONFLICT (agency_id, year) DO UPDATE SET last_value = tracking_counters.last_value + 1
  RETURNING last_value AS seq \gset
INSERT INTO cases (id, agency_id, tracking_number, tracking_year, tracking_seq, state, regime, channel, arrived_at,
  received_on, receipt_basis, receipt_evidence, applicant_kind, applicant_name, applicant_id_number, applicant_phone,
  applicant_email, applicant_address, description, delivery_form, topic, created_by, created_at, updated_at,
  last_event_seq, last_event_hash, due_on, final_due_on, deadline_provisional, applicant_phone_key,
  applicant_id_number_key, search_terms)
VALUES (gen_random_uuid()::text, ':agency', 'PJ-2015-' || lpad(':seq', 5, '0'), 2015, :seq, 'registered', 'ogi2008',
  'letter', '2015-03-02 01:30:00', '2015-03-02', 'post_signed_for', NULL, 'natural_person', '张三',
  '211102198001011234', '15704271234', NULL, '辽宁省盘锦市兴隆台区石油大街100号',
  '申请公开2014年城区道路改造工程的招标文件、中标通知书及工程预算', 'paper', NULL, ':actor', now(), now(), 3,
  'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0fd', '2015-03-23', '2015-03-23', FALSE, '15704271234',
  '211102198001011234', '00 01 14 15 20 4年 pj 三 中 中标 书 书及 件 公 公开 区 区道 及 及工 城 城区 工 工程 年 年城 开 开2 张 张三 招 招标 改 改造 文 文件 标 标文 标通 申 申请 的 的招 知 知书 程 程的 程预 算 请 请公 路 路改 通 通知 造 造工 道 道路 预 预算')
RETURNING id AS case_id \gset
INSERT INTO case_events (id, case_id, seq, kind, payload, actor_id, occurred_at, prev_hash, hash)
VALUES (gen_random_uuid()::text, ':case_id', 1, 'received',
  '{"agency":"PJ","channel":"letter","arrived_at":"2015-03-02T01:30:00Z","received_on":"2015-03-02","receipt_basis":"post_signed_for","receipt_evidence":null,"applicant":{"kind":"natural_person","name":"张三","id_number":"211102198001011234","phone":"15704271234","email":null,"address":"辽宁省盘锦市兴隆台区石油大街100号"},"description":"申请公开2014年城区道路改造工程的招标文件、中标通知书及工程预算","delivery_form":"paper","topic":null}',
  ':actor', now(), '0000000000000000000000000000000000000000000000000000000000000000',
  'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0fe');
INSERT INTO case_events (id, case_id, seq, kind, payload, actor_id, occurred_at, prev_hash, hash)
VALUES (gen_random_uuid()::text, ':case_id', 2, 'registered',
  '{"tracking_number":"PJ-2015-00001","tracking_year":2015,"tracking_seq":1,"regime":"ogi2008"}',
  ':actor', now(), 'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0fe',
  'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff');
INSERT INTO case_events (id, case_id, seq, kind, payload, actor_id, occurred_at, prev_hash, hash)
VALUES (gen_random_uuid()::text, ':case_id', 3, 'deadline_set',
  '{"deadline":{"due_on":"2015-03-23","final_due_on":"2015-03-23","provisional":false,"closed_on":null,"closed_as":null},"previous":null,"reason":"registration"}',
  ':actor', now(), 'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff',
  'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0fd');
END;
