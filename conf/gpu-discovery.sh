#!/usr/bin/env bash
# Spark GPU resource discovery: prints {"name": "gpu", "addresses": ["0", "1", ...]}.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo '{"name": "gpu", "addresses": []}'
  exit 0
fi
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed 's/ //g' | sed 's/.*/"&"/' | paste -sd, -)
echo "{\"name\": \"gpu\", \"addresses\": [${ids}]}"
