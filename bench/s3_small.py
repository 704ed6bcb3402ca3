#!/usr/bin/python3
"""Small-object PUT/GET throughput: THREADS threads, COUNT objects of SIZE bytes, PUT then GET.

    s3_small.py ENDPOINT ACCESS SECRET BUCKET [THREADS=64] [COUNT=6400] [SIZE=4096] [PHASES=put,get]

Prints one line per phase: "<phase> <ops> ops in <s> s = <ops/s> ops/s". The bucket is created if needed.
"""
import concurrent.futures
import random
import sys
import time

import boto3
import botocore.config

endpoint, ak, sk, bucket = sys.argv[1:5]
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 64
count = int(sys.argv[6]) if len(sys.argv) > 6 else 6400
size = int(sys.argv[7]) if len(sys.argv) > 7 else 4096
phases = (sys.argv[8] if len(sys.argv) > 8 else "put,get").split(",")
cfg = botocore.config.Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                             max_pool_connections=threads, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ak,
                  aws_secret_access_key=sk, config=cfg)
try:
    s3.create_bucket(Bucket=bucket)
except s3.exceptions.ClientError:
    pass
body = random.Random(size).randbytes(size)  # the same bytes in every run: a GET-only run checks a PUT-only run's objects


def put(i):
    s3.put_object(Bucket=bucket, Key="small/%06d" % i, Body=body)


def get(i):
    assert s3.get_object(Bucket=bucket, Key="small/%06d" % i)["Body"].read() == body


for name, fn in (("put", put), ("get", get)):
    if name not in phases:
        continue
    t = time.time()
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        list(ex.map(fn, range(count)))
    d = time.time() - t
    print("%s %d ops in %.1f s = %.0f ops/s" % (name, count, d, count / d), flush=True)
