#!/usr/bin/env python3
"""Writes a synthetic ledger (台账) CSV of N rows for the import benchmark: receipts spread over two
years, the five channels, six outcomes with their reasons, 10% still open (with a phone to reply to).
Usage: bench/import-ledger.py N FILE.csv"""
import datetime
import random
import sys

n, path = int(sys.argv[1]), sys.argv[2]
random.seed(7)
start = datetime.date(2024, 1, 2)
channels = ["信函", "网络", "当面", "电子邮件", "传真"]
outcomes = [("予以公开", ""), ("已主动公开", ""), ("部分公开", ""), ("不予公开", "国家秘密"), ("无法提供", "信息不存在"), ("不予处理", "信访举报投诉")]
lines = ["原编号,收到申请日期,受理渠道,申请人类型,申请人,联系电话,申请内容,提供形式,延期批准日期,延期天数,答复日期,送达方式,答复结果,理由"]
for i in range(n):
    received = start + datetime.timedelta(days=(i * 700) // n)
    channel = channels[i % 5]
    phone = f"1390427{i % 10000:04d}"
    if random.random() < 0.1:
        lines.append(f"L{i:06d},{received},{channel},个人,申请人{i},{phone},第{i}号申请的政府信息,纸质,,,,,,")
    else:
        outcome, reason = outcomes[i % 6]
        replied = received + datetime.timedelta(days=10)
        lines.append(f"L{i:06d},{received:%Y/%m/%d},{channel},个人,申请人{i},{phone},第{i}号申请的政府信息,纸质,,,{replied},邮寄,{outcome},{reason}")
with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
