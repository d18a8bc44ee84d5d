-- wrk script: every request registers one new case (no Idempotency-Key, so none is a replay).
-- The token comes from the FOI_BENCH_TOKEN environment variable.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("FOI_BENCH_TOKEN")
wrk.body = [[{"agency":"PJ","channel":"letter","arrived_at":"2015-03-02T09:30:00+08:00",
"applicant":{"kind":"natural_person","name":"张三","id_number":"211102198001011234","phone":"15704271234",
"address":"辽宁省盘锦市兴隆台区石油大街100号"},
"description":"申请公开2014年城区道路改造工程的招标文件、中标通知书及工程预算","delivery_form":"paper"}]]

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("requests/s: %.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("non-2xx or socket errors: %d (non-2xx %d, client timeouts over wrk's 2 s %d, other socket errors %d)\n",
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.errors.timeout, summary.errors.connect + summary.errors.read + summary.errors.write))
end
